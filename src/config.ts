/**
 * All settings, read from the environment (and .env) once, validated, documented and frozen.
 * Only entry points call loadConfig(); core modules receive the values they need as options.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.js';

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** An empty variable (LLM_BASE_URL= in .env) means unset. */
const emptyAsUnset = (value: unknown) => (value === '' ? undefined : value);

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
  /**
   * Embedding worker threads of the server (one onnxruntime thread each), so inference runs off the
   * event loop and N questions embed on N cores. Default: the number of cores. 0: embed on the main
   * thread (what ingest CLIs and tests that need no concurrency may prefer).
   */
  EMBED_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  /** Prefix queries with bge's retrieval instruction (decided on the dev set, see docs/benchmarks.md). */
  QUERY_INSTRUCTION: boolean.default(false),
  /** Longest accepted question, in characters. */
  MAX_QUESTION_CHARS: z.coerce.number().int().min(1).max(100_000).default(500),
  /** Answers kept in the in-memory cache of repeated questions (0 disables it). */
  ANSWER_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(2000),
  /** Passages cited per answer unless the request says otherwise. */
  DEFAULT_TOP_K: z.coerce.number().int().min(1).max(50).default(5),
  /**
   * Origins (scheme://host[:port], comma-separated) whose pages may call the API from a browser:
   * the town websites that embed the widget. The service's own origin always may. Default: none.
   */
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((value, ctx): string[] => {
      const origins: string[] = [];
      for (const entry of value.split(',').map((v) => v.trim().replace(/\/+$/, '')).filter(Boolean)) {
        let origin = '';
        try {
          const url = new URL(entry);
          const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !entry.includes('*');
          // .origin normalises case, default ports and internationalised names as browsers send them.
          if ((url.protocol === 'http:' || url.protocol === 'https:') && bare) origin = url.origin;
        } catch {
          // reported below
        }
        if (!origin) ctx.addIssue({ code: 'custom', message: `"${entry}" is not an origin such as https://www.example.gov.cn (no path, no wildcard)` });
        else origins.push(origin);
      }
      return origins;
    }),
  /** Requests per minute each client IP may make to /api and /v1 together (beyond: 429 with Retry-After); 0 turns the limit off. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(60),
  /**
   * Behind a reverse proxy: which X-Forwarded-For hops to believe, so the rate limit and logs see
   * the client's address, not the proxy's. The number of proxies in front (1 for one nginx), or
   * their addresses or subnets, comma-separated (loopback, 10.0.0.0/8). Empty or false (default):
   * the header is ignored; set it only when a proxy always overwrites it, or clients could forge it.
   */
  TRUST_PROXY: z
    .string()
    .default('')
    .transform((value, ctx): false | number | string[] => {
      const v = value.trim().toLowerCase();
      if (v === '' || v === 'false' || v === '0') return false;
      if (/^\d{1,2}$/.test(v)) return Number(v);
      if (v === 'true') {
        ctx.addIssue({ code: 'custom', message: 'true would believe any X-Forwarded-For a client sends; give the number of proxies in front (e.g. 1) or their addresses' });
        return false;
      }
      const entries = v.split(',').map((e) => e.trim()).filter(Boolean);
      const bad = entries.filter((e) => !/^(loopback|linklocal|uniquelocal|[0-9a-f.:]+(\/\d{1,3})?)$/.test(e));
      if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `"${bad.join(', ')}" is not a hop count, an address, a subnet, loopback, linklocal or uniquelocal` });
      return entries;
    }),
  /** OpenAI-compatible endpoint of the optional LLM, e.g. https://api.deepseek.com/v1. Unset: no LLM, extractive answers. */
  LLM_BASE_URL: z.preprocess(emptyAsUnset, z.url({ protocol: /^https?$/ }).optional()),
  /** API key of the LLM endpoint (local Ollama/vLLM need none). */
  LLM_API_KEY: z.preprocess(emptyAsUnset, z.string().optional()),
  /** Model name at the LLM endpoint, e.g. deepseek-chat, qwen-plus, qwen2.5:7b. Required with LLM_BASE_URL. */
  LLM_MODEL: z.preprocess(emptyAsUnset, z.string().optional()),
  /** Longest an LLM call may take before the extractive answer is given instead, in ms. */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(20_000),
  /** Bearer tokens accepted by the OpenAI-compatible /v1 routes, comma-separated. Empty: no auth. */
  API_TOKENS: z.string().default(''),
  /**
   * Log lines: `pretty` (coloured, human-readable), `json` (one JSON object a line, for log
   * collectors) or `auto`: pretty when the log goes to a terminal, JSON otherwise.
   */
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']).default('auto'),
  /**
   * V8 heap limit of the ingest child process the server starts to build its first index, in MB.
   * A build that needs more stops with E_INGEST_CRASHED saying so; the server keeps running.
   */
  INGEST_HEAP_MB: z.coerce.number().int().min(64).max(65536).default(2048),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Log residents' question text at info level (off: questions can carry personal data; lengths only). */
  LOG_QUESTIONS: boolean.default(false),
  /**
   * Bearer token of the admin API (/api/admin: upload, replace, delete reports, reindex). Empty or
   * unset: the admin API is off. At least 24 characters: it guards a public server.
   */
  ADMIN_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined))
    .refine((v) => v === undefined || v.length >= 24, { message: 'must be at least 24 characters (e.g. `openssl rand -hex 24`)' }),
  /** Where admin actions are appended as JSON lines (who, what, when). */
  AUDIT_LOG: z.string().default('logs/admin-audit.jsonl'),
  /** Largest report the admin API accepts, in MB (the loader reads at most 20). */
  MAX_UPLOAD_MB: z.coerce.number().min(0.001).max(20).default(20),
  /** Bearer token for GET /metrics. Empty: /metrics is open (restrict it at the proxy instead). */
  METRICS_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined)),
  /** Development questions used by npm run eval. */
  EVAL_FILE: z.string().default('eval/dev.jsonl'),
  /**
   * Where the index lives: `file` (INDEX_DIR, the default; no database needed) or `postgres`
   * (DATABASE_URL; see README "Index stores"). The query side does not use it yet (issue 11).
   */
  INDEX_STORE: z.enum(['file', 'postgres']).default('file'),
  /** PostgreSQL (with pgvector) connection string, e.g. postgres://user:pass@127.0.0.1:5432/reports. Required with INDEX_STORE=postgres. */
  DATABASE_URL: z.preprocess(emptyAsUnset, z.string().optional()),
  /** Folder of the feedback store (feedback.jsonl: residents' ratings with the answers they rate). */
  FEEDBACK_DIR: z.string().default('data/feedback'),
  /** Feedback posts per minute each client IP may make (on top of RATE_LIMIT_PER_MINUTE); 0: no extra limit. */
  FEEDBACK_PER_MINUTE: z.coerce.number().int().min(0).max(100_000).default(10),
  /** Per-town widget settings: welcome line, preset questions, contact line, office hours (validated at start). */
  TOWNS_FILE: z.string().default('config/towns.json'),
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
  /** Embedding worker threads; 0: in the main thread (EMBED_WORKERS, default: {@link defaultEmbedWorkers}). */
  embedWorkers: number;
  queryInstruction: boolean;
  maxQuestionChars: number;
  defaultTopK: number;
  answerCacheSize: number;
  logLevel: string;
  /** pretty, json or auto: pretty on a terminal (LOG_FORMAT). */
  logFormat: 'auto' | 'pretty' | 'json';
  /** Heap limit of the ingest child process, in MB (INGEST_HEAP_MB). */
  ingestHeapMb: number;
  /** Log question text at info level (LOG_QUESTIONS). */
  logQuestions: boolean;
  /** Admin API token; undefined: admin API off (ADMIN_TOKEN). */
  adminToken: string | undefined;
  /** Audit log file of admin actions (AUDIT_LOG). */
  auditLog: string;
  /** Largest accepted upload, in bytes (MAX_UPLOAD_MB). */
  maxUploadBytes: number;
  /** Bearer token for /metrics; undefined: open (METRICS_TOKEN). */
  metricsToken: string | undefined;
  evalFile: string;
  /** Origins allowed to call the API from a browser, besides the service's own (ALLOWED_ORIGINS). */
  allowedOrigins: readonly string[];
  /** Requests per minute per client IP on /api and /v1; 0: no limit (RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute: number;
  /** Proxies whose X-Forwarded-For is believed: false (default), a hop count, or addresses (TRUST_PROXY). */
  trustProxy: false | number | readonly string[];
  /** The optional LLM (LLM_BASE_URL, LLM_API_KEY, LLM_MODEL, LLM_TIMEOUT_MS); undefined: none. */
  llm: Readonly<{ baseUrl: string; apiKey: string | undefined; model: string; timeoutMs: number }> | undefined;
  /** Bearer tokens for /v1 (API_TOKENS); empty: no auth. */
  apiTokens: readonly string[];
  /** Which index store to use (INDEX_STORE). */
  indexStore: 'file' | 'postgres';
  /** PostgreSQL connection string (DATABASE_URL); undefined unless set. */
  databaseUrl: string | undefined;
  /** Folder of the feedback store (FEEDBACK_DIR). */
  feedbackDir: string;
  /** Feedback posts per minute per client IP (FEEDBACK_PER_MINUTE). */
  feedbackPerMinute: number;
  /** Per-town widget settings file (TOWNS_FILE). */
  townsFile: string;
}>;

/**
 * Embedding workers when EMBED_WORKERS is not set: one per core but one, at least one. The
 * serving thread's own work per answer (HTTP, retrieval, sentence scoring, composing: ~3.3 ms of
 * CPU) is more than a question's embedding (~1.9 ms), so it needs a core of its own; on 2 cores
 * a second worker gave no more answers per second (8 clients, uncached: 319 against 301/s over
 * three runs each) and cost ~75 MB of RSS (docs/benchmarks.md, "Embedding workers by default").
 */
export function defaultEmbedWorkers(cores = os.availableParallelism()): number {
  return Math.max(1, cores - 1);
}

/** Parses and validates settings; throws E_CONFIG naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('E_CONFIG', `config: invalid settings: ${problems}`);
  }
  const e = parsed.data;
  if ((e.LLM_BASE_URL === undefined) !== (e.LLM_MODEL === undefined)) {
    throw new AppError('E_CONFIG', `config: LLM_BASE_URL and LLM_MODEL go together; set both to use an LLM, or neither (${e.LLM_BASE_URL ? 'LLM_MODEL' : 'LLM_BASE_URL'} is missing)`);
  }
  if (e.INDEX_STORE === 'postgres' && !e.DATABASE_URL) {
    throw new AppError('E_CONFIG', 'config: INDEX_STORE=postgres needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres; `npm run db:embedded -- --port 5432` starts a development server)');
  }
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
    embedWorkers: e.EMBED_WORKERS ?? defaultEmbedWorkers(),
    queryInstruction: e.QUERY_INSTRUCTION,
    maxQuestionChars: e.MAX_QUESTION_CHARS,
    defaultTopK: e.DEFAULT_TOP_K,
    answerCacheSize: e.ANSWER_CACHE_SIZE,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    ingestHeapMb: e.INGEST_HEAP_MB,
    logQuestions: e.LOG_QUESTIONS,
    adminToken: e.ADMIN_TOKEN,
    auditLog: path.resolve(cwd, e.AUDIT_LOG),
    maxUploadBytes: Math.round(e.MAX_UPLOAD_MB * 1024 * 1024),
    metricsToken: e.METRICS_TOKEN,
    evalFile: path.resolve(cwd, e.EVAL_FILE),
    allowedOrigins: Object.freeze(e.ALLOWED_ORIGINS),
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    trustProxy: Array.isArray(e.TRUST_PROXY) ? Object.freeze(e.TRUST_PROXY) : e.TRUST_PROXY,
    llm:
      e.LLM_BASE_URL && e.LLM_MODEL
        ? Object.freeze({ baseUrl: e.LLM_BASE_URL, apiKey: e.LLM_API_KEY, model: e.LLM_MODEL, timeoutMs: e.LLM_TIMEOUT_MS })
        : undefined,
    apiTokens: Object.freeze(e.API_TOKENS.split(',').map((t) => t.trim()).filter(Boolean)),
    indexStore: e.INDEX_STORE,
    databaseUrl: e.DATABASE_URL,
    feedbackDir: path.resolve(cwd, e.FEEDBACK_DIR),
    feedbackPerMinute: e.FEEDBACK_PER_MINUTE,
    townsFile: path.resolve(cwd, e.TOWNS_FILE),
  });
}
