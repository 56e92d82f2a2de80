/** Opens the index store the configuration names (INDEX_STORE, INDEX_DIR, DATABASE_URL). */
import { AppError } from '../errors.js';
import { currentGeneration, readManifest } from '../index/store.js';
import { createFileStore } from './file-store.js';
import type { IndexStore, IndexStoreKind } from './index-store.js';
import { createPostgresStore } from './postgres/store.js';

export interface OpenIndexStoreOptions {
  kind: IndexStoreKind;
  /** The file store's folder (INDEX_DIR). */
  indexDir: string;
  /** The PostgreSQL store's connection string (DATABASE_URL); required for kind postgres. */
  databaseUrl?: string | undefined;
  embeddingModel: string;
  dimension: number;
}

/** The configured store; E_CONFIG when postgres is asked for without a connection string. */
export function openIndexStore(options: OpenIndexStoreOptions): IndexStore {
  if (options.kind === 'file') return createFileStore(options);
  if (!options.databaseUrl) throw new AppError('E_CONFIG', 'store: INDEX_STORE=postgres needs DATABASE_URL');
  return createPostgresStore({ connectionString: options.databaseUrl, embeddingModel: options.embeddingModel, dimension: options.dimension });
}

/** Whether the file index in `indexDir` has a published generation (read synchronously, for start-up). */
export function hasFileIndex(indexDir: string): boolean {
  return currentGeneration(indexDir) !== undefined;
}

/** The model and dimension the file index in `indexDir` was built with; undefined when there is none. */
export function recordedModel(indexDir: string): { embeddingModel: string; dimension: number } | undefined {
  const manifest = readManifest(indexDir);
  return manifest ? { embeddingModel: manifest.embeddingModel, dimension: manifest.dimension } : undefined;
}

/**
 * The file store over `indexDir`, expecting the model its published generation records: for tools
 * that read an index without loading a model (admin listings, imports, benchmarks). With no index
 * there, publishedGeneration() is undefined and snapshot() throws E_INDEX_MISSING.
 */
export function openRecordedFileStore(indexDir: string): IndexStore {
  return createFileStore({ indexDir, ...(recordedModel(indexDir) ?? { embeddingModel: '', dimension: 0 }) });
}
