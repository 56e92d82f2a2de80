/**
 * What every entry point needs: the config, a logger, the embedding model (fetched when missing)
 * and the index (built when missing), assembled into the QA service.
 */
import 'dotenv/config';
import type { Logger } from 'pino';
import { withAnswerCache, type CachedQaService } from '../qa/cache.js';
import { createLlmClient, type LlmClient } from '../answer/llm.js';
import { createQaService, DEFAULT_THRESHOLD, type QaService } from '../qa/service.js';
import { suggestionDeriver } from '../qa/suggestions.js';
import { loadConfig, type Config } from '../config.js';
import { AppError } from '../errors.js';
import { createEmbedder, type Embedder } from '../embed/embedder.js';
import { ensureModel } from '../embed/model-fetch.js';
import { createEmbedderPool } from '../embed/pool.js';
import { ingestCorpus, type IngestOptions } from '../index/build.js';
import { runIngestInChild, type IngestRunOptions, type IngestRunSummary } from '../index/ingest-runner.js';
import { checkPublishTarget, publishFileIndex, type ImportOptions, type PublishTarget } from '../store/import.js';
import type { IndexSnapshot, IndexStore } from '../store/index-store.js';
import { openIndexStore } from '../store/open.js';
import { prepareQuestionReader } from '../annotate/question.js';

export { createLogger, exitWithError } from './logger.js';

/** Fetches the model if its files are missing or corrupt, then loads it. */
export async function openEmbedder(config: Config, log: Logger): Promise<Embedder> {
  const result = await ensureModel({
    modelDir: config.modelDir,
    modelId: config.embeddingModel,
    hfEndpoint: config.hfEndpoint,
    mavenVersions: config.mavenVersions,
    // Byte counts of a download are for bars, not for the log; a routine check is debug; a failed way is worth a warning.
    onProgress: (e) => {
      if (e.stage === 'fallback') log.warn({ stage: e.stage }, e.message);
      else if (e.stage === 'check') log.debug({ stage: e.stage }, e.message);
      else if (e.loaded === undefined && e.stage !== 'done') log.info({ stage: e.stage }, e.message);
    },
  });
  log.info({ source: result.source }, result.summary);
  const options = {
    modelDir: config.modelDir,
    modelId: config.embeddingModel,
    batchSize: config.embedBatchSize,
    queryInstruction: config.queryInstruction,
  };
  // Worker threads keep inference off the event loop (EMBED_WORKERS; 0: in this thread).
  if (config.embedWorkers > 0) return createEmbedderPool({ ...options, size: config.embedWorkers });
  return createEmbedder(options);
}

/**
 * Where an ingest publishes what it builds in INDEX_DIR: with INDEX_STORE=postgres, the database
 * the servers read (INDEX_DIR is then the staging area and the incremental cache); else nowhere,
 * the file index is what the servers read.
 */
function publishTarget(config: Config): PublishTarget | undefined {
  if (config.indexStore !== 'postgres') return undefined;
  if (!config.databaseUrl) throw new AppError('E_CONFIG', 'ingest: INDEX_STORE=postgres needs DATABASE_URL');
  return { kind: 'postgres', databaseUrl: config.databaseUrl };
}

/**
 * Runs ingestion with the project's settings in a child process (src/index/ingest-runner.ts): the
 * caller's event loop stays free, `extra.signal` stops it within 2 s, INGEST_HEAP_MB bounds it.
 * The child fetches and loads the model itself and, with INDEX_STORE=postgres, publishes the new
 * generation into the database before it answers.
 */
export function runIngestChild(config: Config, extra: Pick<IngestRunOptions, 'skipBad' | 'full' | 'signal' | 'onProgress'> = {}): Promise<IngestRunSummary> {
  return runIngestInChild({
    corpusDir: config.corpusDir,
    indexDir: config.indexDir,
    model: {
      modelDir: config.modelDir,
      modelId: config.embeddingModel,
      hfEndpoint: config.hfEndpoint,
      mavenVersions: config.mavenVersions,
      batchSize: config.embedBatchSize,
      queryInstruction: config.queryInstruction,
    },
    maxHeapMb: config.ingestHeapMb,
    defaultTopK: config.defaultTopK,
    publish: publishTarget(config),
    ...extra,
  });
}

/**
 * Runs ingestion with the project's settings, in this process; with INDEX_STORE=postgres it then
 * publishes the new generation into the database (`publish.onProgress`: chunks written).
 */
export async function runIngest(config: Config, embedder: Embedder, extra: Partial<IngestOptions> & { publish?: ImportOptions } = {}): Promise<IngestRunSummary> {
  const { publish, ...options } = extra;
  const target = publishTarget(config);
  // A database that is down or not migrated fails the run now, not after the embedding.
  if (target) await checkPublishTarget(target);
  const summary: IngestRunSummary = await ingestCorpus({
    corpusDir: config.corpusDir,
    indexDir: config.indexDir,
    embedder,
    deriveFromIndex: suggestionDeriver(embedder, { defaultTopK: config.defaultTopK }),
    ...options,
  });
  if (target) summary.published = await publishFileIndex(config.indexDir, target, publish);
  return summary;
}

export interface Runtime {
  embedder: Embedder;
  /** The configured index store (INDEX_STORE) and the snapshot the service reads. */
  store: IndexStore;
  snapshot: IndexSnapshot;
  service: CachedQaService;
}

/** The index store the configuration names, for this embedder's model. */
export function openStore(config: Config, embedder: Pick<Embedder, 'id' | 'dimension'>): IndexStore {
  return openIndexStore({ kind: config.indexStore, indexDir: config.indexDir, databaseUrl: config.databaseUrl, embeddingModel: embedder.id, dimension: embedder.dimension });
}

/** The optional LLM client when LLM_BASE_URL and LLM_MODEL are set (no request is made here). */
export function openLlm(config: Config, log: Logger): LlmClient | undefined {
  if (!config.llm) return undefined;
  log.info({ model: config.llm.model, baseUrl: config.llm.baseUrl, timeoutMs: config.llm.timeoutMs }, 'answers generated by an LLM and checked against the passages');
  return createLlmClient(config.llm);
}

/**
 * Loads model, index and service, building the index first when there is none. A long-running
 * caller passes its one store, so reloads reuse it (a PostgreSQL store holds a connection pool).
 */
export async function openRuntime(config: Config, log: Logger, embedder?: Embedder, indexStore?: IndexStore): Promise<Runtime> {
  const model = embedder ?? (await openEmbedder(config, log));
  const store = indexStore ?? openStore(config, model);
  // A missing file index is built here; a database is filled by `npm run ingest` (or db:import).
  if (store.kind === 'file' && !(await store.publishedGeneration())) {
    log.info({ corpus: config.corpusDir }, 'no index yet: building it');
    const summary = await runIngest(config, model);
    log.info({ documents: summary.documents, chunks: summary.chunks, ms: summary.totalMs }, 'index built');
  }
  // Without blocking (the file store reads with openIndex): a server opens the next generation while it answers from the current one.
  const snapshot = await store.snapshot();
  // The question reader's IDF table, else built in one block by the first question (its segmenter is the index's).
  await prepareQuestionReader();
  const llm = openLlm(config, log);
  const service = withAnswerCache(await createQaService(snapshot, model, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD, llm }), config.answerCacheSize);
  return { embedder: model, store, snapshot, service };
}

/** Loads the service, building the index first when there is none. */
export async function openService(config: Config, log: Logger, embedder?: Embedder): Promise<QaService> {
  return (await openRuntime(config, log, embedder)).service;
}

export { loadConfig };
