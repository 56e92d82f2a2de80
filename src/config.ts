/**
 * All settings, read from the environment (and .env) once, validated, documented and frozen.
 * Only entry points call loadConfig(); core modules receive the values they need as options.
 */
import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.js';

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  /** HTTP port of the server. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Interface the server binds to. */
  HOST: z.string().default('127.0.0.1'),
  /** Where the reports live. */
  CORPUS_DIR: z.string().default('corpus'),
  /** Where the built index lives (generated). */
  INDEX_DIR: z.string().default('index'),
  /** Where model files are stored (generated). */
  MODEL_DIR: z.string().default('models'),
  /** Transformers.js model id of the embedding model. */
  EMBEDDING_MODEL: z.string().default('Xenova/bge-small-zh-v1.5'),
  /** Hugging Face Hub mirror used by model:fetch, e.g. https://hf-mirror.example. */
  HF_ENDPOINT: z.string().url().optional(),
  /** langchain4j artifact versions tried, in order, when fetching the model through Maven. */
  MODEL_MAVEN_VERSIONS: z.string().default('0.36.2,1.20.0-beta30,1.18.1-beta28,1.17.0-beta27'),
  /**
   * Passages per forward pass during ingest. 1 by default: the int8 model quantizes activations
   * per batch, so a batch changes its members' vectors slightly, and batching was measured to
   * gain under 5% here (docs/benchmarks.md).
   */
  EMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(256).default(1),
  /** Prefix queries with bge's retrieval instruction (decided on the dev set, see docs/benchmarks.md). */
  QUERY_INSTRUCTION: boolean.default(false),
  /** Longest accepted question, in characters. */
  MAX_QUESTION_CHARS: z.coerce.number().int().min(1).max(100_000).default(500),
  /** Answers kept in the in-memory cache of repeated questions (0 disables it). */
  ANSWER_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(2000),
  /** Passages cited per answer unless the request says otherwise. */
  DEFAULT_TOP_K: z.coerce.number().int().min(1).max(50).default(5),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Development questions used by npm run eval. */
  EVAL_FILE: z.string().default('eval/dev.jsonl'),
});

export type Config = Readonly<{
  port: number;
  host: string;
  corpusDir: string;
  indexDir: string;
  modelDir: string;
  embeddingModel: string;
  hfEndpoint: string | undefined;
  mavenVersions: string[];
  embedBatchSize: number;
  queryInstruction: boolean;
  maxQuestionChars: number;
  defaultTopK: number;
  answerCacheSize: number;
  logLevel: string;
  evalFile: string;
}>;

/** Parses and validates settings; throws E_CONFIG naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('E_CONFIG', `config: invalid settings: ${problems}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    corpusDir: path.resolve(cwd, e.CORPUS_DIR),
    indexDir: path.resolve(cwd, e.INDEX_DIR),
    modelDir: path.resolve(cwd, e.MODEL_DIR),
    embeddingModel: e.EMBEDDING_MODEL,
    hfEndpoint: e.HF_ENDPOINT,
    mavenVersions: e.MODEL_MAVEN_VERSIONS.split(',').map((v) => v.trim()).filter(Boolean),
    embedBatchSize: e.EMBED_BATCH_SIZE,
    queryInstruction: e.QUERY_INSTRUCTION,
    maxQuestionChars: e.MAX_QUESTION_CHARS,
    defaultTopK: e.DEFAULT_TOP_K,
    answerCacheSize: e.ANSWER_CACHE_SIZE,
    logLevel: e.LOG_LEVEL,
    evalFile: path.resolve(cwd, e.EVAL_FILE),
  });
}
