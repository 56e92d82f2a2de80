/** Choosing the index store from the configuration (INDEX_STORE, DATABASE_URL). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openIndexStore } from '../../src/store/open.js';

describe('index store configuration', () => {
  it('defaults to the file store, with no database needed', () => {
    const config = loadConfig({});
    expect(config.indexStore).toBe('file');
    expect(config.databaseUrl).toBeUndefined();
    const store = openIndexStore({ kind: config.indexStore, indexDir: config.indexDir, databaseUrl: config.databaseUrl, embeddingModel: 'm', dimension: 512 });
    expect(store.kind).toBe('file');
  });

  it('refuses INDEX_STORE=postgres without DATABASE_URL, naming what to set', () => {
    expect(() => loadConfig({ INDEX_STORE: 'postgres' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ INDEX_STORE: 'postgres', DATABASE_URL: '' })).toThrow(/DATABASE_URL/);
    expect(() => openIndexStore({ kind: 'postgres', indexDir: 'index', embeddingModel: 'm', dimension: 512 })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });

  it('refuses an unknown store kind', () => {
    expect(() => loadConfig({ INDEX_STORE: 'redis' })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });

  it('opens the PostgreSQL store for INDEX_STORE=postgres (connecting only when used)', async () => {
    const config = loadConfig({ INDEX_STORE: 'postgres', DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db' });
    const store = openIndexStore({ kind: config.indexStore, indexDir: config.indexDir, databaseUrl: config.databaseUrl, embeddingModel: 'm', dimension: 512 });
    expect(store.kind).toBe('postgres');
    await store.close();
  });
});
