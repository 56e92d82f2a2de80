/**
 * Copies a built file index (its published generation) into another index store, under the same
 * generation name, so that both stores answer from identical data: `npm run db:import`, and every
 * ingest with INDEX_STORE=postgres (publishFileIndex: the ingest builds into INDEX_DIR, its
 * staging area and incremental cache, then publishes that generation into the database).
 */
import { AppError, isAppError } from '../errors.js';
import { loadIndex, readManifest, type LoadedIndex } from '../index/store.js';
import type { ChunkRecord, GenerationInfo, IndexStore } from './index-store.js';
import { createPostgresStore } from './postgres/store.js';

export interface ImportOptions {
  /** Chunks per write. Default 200. */
  batchChunks?: number;
  /** Called after each batch with chunks written and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface ImportResult {
  generation: string;
  /** False when the target already published this generation (nothing was written). */
  imported: boolean;
  info?: GenerationInfo;
}

/**
 * Each chunk's keyword tokens, recovered from the postings (term repeated tf times): the order of
 * tokens is lost, which BM25 never uses; counts and lengths are exact.
 */
export function tokensFromPostings(index: Pick<LoadedIndex, 'chunks' | 'keywords'>): string[][] {
  const tokens = index.chunks.map((): string[] => []);
  for (const term of Object.keys(index.keywords.postings)) {
    const list = index.keywords.postings[term]!;
    for (let i = 0; i < list.length; i += 2) {
      const row = tokens[list[i]!]!;
      for (let n = 0; n < list[i + 1]!; n++) row.push(term);
    }
  }
  return tokens;
}

/** Writes `index` (with its derived records) as a new generation of `target` and publishes it. */
export async function importFileIndex(index: LoadedIndex, target: IndexStore, options: ImportOptions = {}): Promise<ImportResult> {
  const { manifest } = index;
  const generation = manifest.indexVersion;
  if ((await target.publishedGeneration()) === generation) return { generation, imported: false };
  const writer = await target.beginGeneration({
    id: generation,
    embeddingModel: manifest.embeddingModel,
    dimension: manifest.dimension,
    pipelineVersion: manifest.pipelineVersion,
    files: manifest.files,
  });
  try {
    await writer.writeDocuments(index.documents);
    const tokens = tokensFromPostings(index);
    const batch = options.batchChunks ?? 200;
    for (let start = 0; start < index.chunks.length; start += batch) {
      const records: ChunkRecord[] = [];
      for (let row = start; row < Math.min(start + batch, index.chunks.length); row++) {
        const chunk = index.chunks[row]!;
        const first = index.sentenceRows[row]!;
        records.push({
          chunk,
          vector: index.embeddings[row]!,
          sentenceVectors: index.sentenceEmbeddings.slice(first, first + chunk.sentences.length),
          tokens: tokens[row]!,
        });
      }
      await writer.writeChunks(records);
      options.onProgress?.(Math.min(start + batch, index.chunks.length), index.chunks.length);
    }
    await writer.writeLexicon(index.lexicon);
    if (index.derived.length > 0) await writer.writeDerived(index.derived);
    return { generation, imported: true, info: await writer.publish() };
  } catch (error) {
    await writer.abort().catch(() => {});
    throw error;
  }
}

/**
 * Imports the published generation of the file index in `indexDir` (read as recorded: its own
 * model and dimension), with its counts for the caller's report.
 */
export async function importFileIndexDir(indexDir: string, target: IndexStore, options: ImportOptions = {}): Promise<ImportResult & { documents: number; chunks: number; sentences: number }> {
  const manifest = readManifest(indexDir);
  if (!manifest) throw new AppError('E_INDEX_MISSING', `store: no index in ${indexDir}; run \`npm run ingest\` first`);
  const index = loadIndex(indexDir, { embeddingModel: manifest.embeddingModel, dimension: manifest.dimension });
  const result = await importFileIndex(index, target, options);
  return { ...result, documents: index.documents.length, chunks: index.chunks.length, sentences: index.sentenceEmbeddings.length };
}

/**
 * Where an ingest publishes the generation it built in INDEX_DIR, besides the file index itself
 * (the PostgreSQL store with INDEX_STORE=postgres). Plain data: it crosses to the ingest child.
 */
export interface PublishTarget {
  kind: 'postgres';
  /** postgres://… of the migrated database (DATABASE_URL). */
  databaseUrl: string;
}

export type PublishResult = ImportResult & { documents: number; chunks: number; sentences: number; ms: number };

/** `host:port` of a connection string, for messages (never its password). */
function hostOf(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return url.host || 'the database';
  } catch {
    return 'the database';
  }
}

/** What a driver error says, briefly: its code (ECONNREFUSED, a SQLSTATE) and message. */
function describeDriverError(err: unknown): string {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message.trim() : '';
  const head = typeof code === 'string' ? code : '';
  return [head, text].filter(Boolean).join(': ') || String(err);
}

/** Runs `work` on the target's store, closing it after; a driver error becomes E_STORE saying `what` failed. */
async function onTarget<T>(target: PublishTarget, model: { embeddingModel: string; dimension: number }, what: string, work: (store: IndexStore) => Promise<T>): Promise<T> {
  const store = createPostgresStore({ connectionString: target.databaseUrl, ...model });
  try {
    return await work(store);
  } catch (err) {
    if (isAppError(err)) throw err;
    throw new AppError('E_STORE', `store: ${what} PostgreSQL at ${hostOf(target.databaseUrl)} failed (${describeDriverError(err)}); the generation published there keeps serving`, { cause: err });
  } finally {
    await store.close().catch(() => {});
  }
}

/**
 * Checks that an ingest will be able to publish into `target` (the database answers, its schema is
 * migrated), before it spends minutes building: E_STORE or E_INDEX_MISSING (run db:migrate).
 */
export async function checkPublishTarget(target: PublishTarget): Promise<void> {
  await onTarget(target, { embeddingModel: '', dimension: 0 }, 'reaching', (store) => store.publishedGeneration());
}

/**
 * Publishes the generation the file index in `indexDir` holds into `target` (see importFileIndex:
 * in batches, then one pointer switch; a generation already published there is not written
 * again). A failure leaves the target's published generation serving: a writer that fails
 * deletes its rows, one that is killed leaves them to the next writer (beginGeneration). A
 * database that cannot be reached, or that fails a write, is E_STORE naming its host.
 */
export async function publishFileIndex(indexDir: string, target: PublishTarget, options: ImportOptions = {}): Promise<PublishResult> {
  const manifest = readManifest(indexDir);
  if (!manifest) throw new AppError('E_INDEX_MISSING', `store: no index in ${indexDir} to publish; run \`npm run ingest\``);
  const started = Date.now();
  // The model the generation records: readers check it against their own.
  const model = { embeddingModel: manifest.embeddingModel, dimension: manifest.dimension };
  const result = await onTarget(target, model, `publishing generation ${manifest.indexVersion} into`, (store) => importFileIndexDir(indexDir, store, options));
  return { ...result, ms: Date.now() - started };
}
