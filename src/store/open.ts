/** Opens the index store the configuration names (INDEX_STORE, INDEX_DIR, DATABASE_URL). */
import { AppError } from '../errors.js';
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
