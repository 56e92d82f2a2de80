/**
 * Prometheus metrics for GET /metrics: requests and latency per route and status, retrieval and
 * embedding time, answer-cache hits, index size, ingest runs. One prom-client Registry per app
 * (not the global default), so tests can build several apps in one process.
 */
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheStats, QaService } from '../qa/types.js';
import { wrapService } from '../qa/wrap.js';
import type { Embedder } from '../embed/embedder.js';
import { requireBearer } from './bearer-auth.js';

export interface MetricsOptions {
  /** Also export Node's process metrics (memory, CPU, event-loop lag, GC). Default false. */
  processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** Counts and times every request by method, route pattern and status. Mount first. */
  middleware(): RequestHandler;
  /** GET /metrics; when `token` is set, only with `Authorization: Bearer <token>`. */
  handler(token?: string): RequestHandler;
  /** Wraps a service (qa/wrap.ts) so ask/search (retrieval plus answer composition) are timed. */
  instrumentService(service: QaService): QaService;
  /** Wraps an embedder so query and document embedding are timed. */
  instrumentEmbedder(embedder: Embedder): Embedder;
  /** Records a finished ingest (reindex) run. */
  recordIngest(outcome: 'succeeded' | 'failed', seconds: number): void;
  /**
   * Where the index size and version, and the answer cache's counts (its cacheStats(), see
   * qa/cache.ts), come from at scrape time: the live service. Without one, or without a cache,
   * the cache metrics read 0.
   */
  watchService(current: () => QaService | undefined): void;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'qa_http_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'qa_http_request_duration_seconds',
    help: 'HTTP request latency (until the response is finished) by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const retrieval = new Histogram({
    name: 'qa_retrieval_duration_seconds',
    help: 'Time the QA service takes per question (ask) or query (search): query embedding, retrieval and answer composition',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const embedding = new Histogram({
    name: 'qa_embedding_duration_seconds',
    help: 'Time per embedding call: one question (query) or a batch of passages (documents, during ingest)',
    labelNames: ['kind'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const ingestRuns = new Counter({
    name: 'qa_ingest_runs_total',
    help: 'Reindex runs started by this server, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const ingestSeconds = new Histogram({
    name: 'qa_ingest_duration_seconds',
    help: 'Duration of reindex runs (ingest, load and swap)',
    buckets: [1, 5, 15, 30, 60, 120, 300, 900],
    registers: [registry],
  });
  // Both outcomes exist from the start, so a dashboard's rate() has a series before the first failure.
  ingestRuns.inc({ outcome: 'succeeded' }, 0);
  ingestRuns.inc({ outcome: 'failed' }, 0);

  let currentService: () => QaService | undefined = () => undefined;

  new Gauge({
    name: 'qa_service_ready',
    help: '1 when an index is loaded and questions are answered, else 0',
    registers: [registry],
    collect() {
      this.set(currentService() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'qa_index_documents',
    help: 'Reports in the live index',
    registers: [registry],
    collect() {
      this.set(currentService()?.stats().documents ?? 0);
    },
  });
  new Gauge({
    name: 'qa_index_chunks',
    help: 'Passages in the live index',
    registers: [registry],
    collect() {
      this.set(currentService()?.stats().chunks ?? 0);
    },
  });
  new Gauge({
    name: 'qa_index_info',
    help: 'The live index generation and embedding model (value 1)',
    labelNames: ['index_version', 'embedding_model'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const service = currentService();
      if (service) this.set({ index_version: service.indexVersion, embedding_model: service.embeddingModel }, 1);
    },
  });
  const cacheGauge = (name: string, help: string, read: (c: CacheStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const counts = currentService()?.cacheStats();
        this.set(counts ? read(counts) : 0);
      },
    });
  cacheGauge('qa_answer_cache_hits', 'Answers served from the answer cache since the live index was loaded', (c) => c.hits);
  cacheGauge('qa_answer_cache_lookups', 'Answer-cache lookups since the live index was loaded', (c) => c.hits + c.misses);
  cacheGauge('qa_answer_cache_hit_ratio', 'Share of answer-cache lookups that hit, since the live index was loaded', (c) =>
    c.hits + c.misses > 0 ? c.hits / (c.hits + c.misses) : 0,
  );
  cacheGauge('qa_answer_cache_entries', 'Answers held by the answer cache', (c) => c.size);

  const timed = async <T>(histogram: Histogram<string>, labels: Record<string, string>, run: () => Promise<T>): Promise<T> => {
    const end = histogram.startTimer(labels);
    try {
      return await run();
    } finally {
      end();
    }
  };

  return {
    registry,

    middleware() {
      return (req, res, next) => {
        const end = latency.startTimer();
        res.on('finish', () => {
          // The matched route's pattern (/api/documents/:docId), never the raw path: one series
          // per route, however many ids and typos clients send.
          const pattern = (req.route as { path?: unknown } | undefined)?.path;
          const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : '(unmatched)';
          const labels = { method: req.method, route, status: String(res.statusCode) };
          requests.inc(labels);
          end(labels);
        });
        next();
      };
    },

    handler(token) {
      const auth = requireBearer({ tokens: token ? [token] : [], realm: 'metrics', message: 'metrics: a valid bearer token (METRICS_TOKEN) is required' });
      return (req, res, next) => {
        auth(req, res, async (denied?: unknown) => {
          if (denied) {
            next(denied);
            return;
          }
          try {
            res.setHeader('Content-Type', registry.contentType);
            res.setHeader('Cache-Control', 'no-store');
            res.end(await registry.metrics());
          } catch (err) {
            next(err);
          }
        });
      };
    },

    instrumentService(service) {
      return wrapService(service, {
        ask: (input) => timed(retrieval, { operation: 'ask' }, () => service.ask(input)),
        search: (query, k, filters) => timed(retrieval, { operation: 'search' }, () => service.search(query, k, filters)),
      });
    },

    instrumentEmbedder(embedder) {
      const wrapped = Object.create(embedder) as Embedder;
      wrapped.embedQuery = (text) => timed(embedding, { kind: 'query' }, () => embedder.embedQuery(text));
      wrapped.embedDocuments = (texts) => timed(embedding, { kind: 'documents' }, () => embedder.embedDocuments(texts));
      return wrapped;
    },

    recordIngest(outcome, seconds) {
      ingestRuns.inc({ outcome });
      ingestSeconds.observe(seconds);
    },

    watchService(current) {
      currentService = current;
    },
  };
}
