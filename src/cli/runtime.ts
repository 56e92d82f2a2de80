/**
 * What every entry point needs: the config, a logger, the embedding model (fetched when missing)
 * and the index (built when missing), assembled into the QA service.
 */
import 'dotenv/config';
import { pino, type Logger } from 'pino';
import { withAnswerCache, type CachedQaService } from '../answer/cache.js';
import { createQaService, DEFAULT_THRESHOLD, type QaService } from '../answer/service.js';
import { loadConfig, type Config } from '../config.js';
import { createEmbedder, type Embedder } from '../embed/embedder.js';
import { ensureModel } from '../embed/model-fetch.js';
import { isAppError } from '../errors.js';
import { ingestCorpus, type IngestOptions, type IngestSummary } from '../index/build.js';
import { currentGeneration, loadIndex, type LoadedIndex } from '../index/store.js';

export function createLogger(config: Config): Logger {
  // Logs go to stderr so that stdout stays for answers and tables.
  return pino({ level: config.logLevel, base: undefined }, pino.destination(2));
}

/** Fetches the model if its files are missing or corrupt, then loads it. */
export async function openEmbedder(config: Config, log: Logger): Promise<Embedder> {
  const result = await ensureModel({
    modelDir: config.modelDir,
    modelId: config.embeddingModel,
    hfEndpoint: config.hfEndpoint,
    mavenVersions: config.mavenVersions,
    onProgress: (e) => log.info({ stage: e.stage }, e.message),
  });
  if (result.source !== 'present') log.info({ source: result.source }, 'model fetched');
  return createEmbedder({
    modelDir: config.modelDir,
    modelId: config.embeddingModel,
    batchSize: config.embedBatchSize,
    queryInstruction: config.queryInstruction,
  });
}

/** Runs ingestion with the project's settings. */
export function runIngest(config: Config, embedder: Embedder, extra: Partial<IngestOptions> = {}): Promise<IngestSummary> {
  return ingestCorpus({ corpusDir: config.corpusDir, indexDir: config.indexDir, embedder, ...extra });
}

export interface Runtime {
  embedder: Embedder;
  index: LoadedIndex;
  service: CachedQaService;
}

/** Loads model, index and service, building the index first when there is none. */
export async function openRuntime(config: Config, log: Logger, embedder?: Embedder): Promise<Runtime> {
  const model = embedder ?? (await openEmbedder(config, log));
  if (!currentGeneration(config.indexDir)) {
    log.info({ corpus: config.corpusDir }, 'no index yet: building it');
    const summary = await runIngest(config, model);
    log.info({ documents: summary.documents, chunks: summary.chunks, ms: summary.totalMs }, 'index built');
  }
  const index = loadIndex(config.indexDir, { embeddingModel: model.id, dimension: model.dimension });
  const service = withAnswerCache(createQaService(index, model, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD }), config.answerCacheSize);
  return { embedder: model, index, service };
}

/** Loads the service, building the index first when there is none. */
export async function openService(config: Config, log: Logger, embedder?: Embedder): Promise<QaService> {
  return (await openRuntime(config, log, embedder)).service;
}

/** Ends a CLI with the error's message (never a stack) and a non-zero code. */
export function exitWithError(err: unknown): never {
  const message = isAppError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

export { loadConfig };
