/**
 * Liveness and readiness, in-process with the real service: /api/health/live answers while the
 * process serves HTTP at all; /api/health/ready only while questions are answered (not while the
 * index loads, not after a failed load, not while shutting down); /api/health keeps its contract.
 * While shutting down, requests on kept-alive connections get 503 and the connection is closed.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QaService } from '../../src/qa/service.js';
import { AppError } from '../../src/errors.js';
import { createApp } from '../../src/server/app.js';
import { createServiceHolder } from '../../src/server/service-holder.js';
import { openTestService } from '../services.js';
import { call, close, expectError, listen, postJson } from './helpers.js';

let service: QaService;
let server: Server;
let base = '';
const holder = createServiceHolder();
let stopping = false;

beforeAll(async () => {
  ({ service } = await openTestService());
  ({ server, base } = await listen(createApp({ getService: holder.current, getLoadError: holder.loadError, isShuttingDown: () => stopping, maxQuestionChars: 500, defaultTopK: 5, web: false })));
});
afterAll(() => close(server));

describe('probes through the life of a server', () => {
  it('while the index loads: live, not ready (503 loading, Retry-After), health says loading', async () => {
    expect((await call(base, '/api/health/live')).body).toEqual({ status: 'alive' });
    const ready = await call(base, '/api/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'loading' });
    expect(ready.headers.get('retry-after')).toBe('10');
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect((await call(base, '/api/health')).body).toEqual({ status: 'loading' });
  });

  it('after a failed load: live, not ready, with the code and what to run', async () => {
    holder.fail(new AppError('E_INDEX_CORRUPT', 'index: vectors.hnsw is missing or damaged; run `npm run ingest -- --full`', { status: 503 }));
    expect((await call(base, '/api/health/live')).status).toBe(200);
    const ready = await call(base, '/api/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'no-index', error: { code: 'E_INDEX_CORRUPT', message: expect.stringContaining('npm run ingest') } });
  });

  it('once loaded: ready with the index version; /api/health keeps its contract', async () => {
    holder.swap(service);
    expect((await call(base, '/api/health/ready')).body).toEqual({ status: 'ready', indexVersion: service.indexVersion });
    const health = await call(base, '/api/health');
    expect(Object.keys(health.body).sort()).toEqual(['chunks', 'documents', 'embeddingModel', 'indexVersion', 'status']);
    expect(health.body.status).toBe('ok');
  });

  it('while shutting down: still live, not ready, and new requests get 503 with Connection: close', async () => {
    stopping = true;
    try {
      expect((await call(base, '/api/health/live')).status).toBe(200);
      expect((await call(base, '/api/health/ready')).body).toEqual({ status: 'stopping' });
      const ask = await call(base, '/api/ask', postJson({ question: '安置房' }));
      expectError(ask, 503, 'E_SHUTTING_DOWN');
      expect(ask.headers.get('connection')).toBe('close');
      expect(ask.headers.get('retry-after')).toBe('5');
    } finally {
      stopping = false;
    }
    expect((await call(base, '/api/ask', postJson({ question: '安置房' }))).status).toBe(200);
  });
});
