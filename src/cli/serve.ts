/**
 * Entry point of `npm start`: listens at once (so /api/health can say `loading`), then loads the
 * QA service — fetching the model and building the index when missing — and swaps it in. A
 * failed load is logged and reported as 503 with its message; the process keeps serving.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuditLog } from '../admin/audit.js';
import { createReportStore } from '../admin/reports.js';
import type { QaService } from '../answer/service.js';
import { AppError, isAppError } from '../errors.js';
import { readManifest } from '../index/store.js';
import { createApp } from '../server/app.js';
import { createFileFeedbackStore } from '../feedback/store.js';
import { warmNextQuestions } from '../server/feedback-routes.js';
import { warmSuggestions } from '../server/suggestions.js';
import { loadTownsConfig } from '../towns-config.js';
import { createMetrics, type CacheCounts } from '../server/metrics.js';
import { createReindexer, createServiceHolder, type Rebuild } from '../server/service-holder.js';
import { createLogger, exitWithError, loadConfig, openEmbedder, openRuntime, runIngest } from './runtime.js';

/** How long in-flight requests get to finish after SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

function main(): void {
  const config = loadConfig();
  const log = createLogger(config);
  // A bad settings file stops the start here, with the file and the field named.
  const towns = loadTownsConfig(config.townsFile);

  // The live service sits in a holder: a reindex (admin API) swaps a new one in while serving.
  const holder = createServiceHolder();
  const metrics = createMetrics({ processMetrics: true });
  metrics.watchService(holder.current);
  metrics.watchCache(() => {
    const live = holder.current() as (QaService & { cacheStats?: () => CacheCounts }) | undefined;
    return typeof live?.cacheStats === 'function' ? live.cacheStats() : undefined;
  });
  // The model loads once; the startup load and every reindex use it.
  const embedder = openEmbedder(config, log).then((e) => metrics.instrumentEmbedder(e));
  embedder.catch(() => undefined); // reported by the startup load below
  const embed = async (text: string): Promise<Float32Array> => (await embedder).embedQuery(text);
  /**
   * First-open suggestions, computed before the service goes live (a few seconds), so the first
   * widget opened after a start shows them at once instead of waiting for them.
   */
  const warmFirst = async (service: QaService): Promise<void> => {
    const started = performance.now();
    try {
      await warmSuggestions(service);
      log.info({ ms: Math.round(performance.now() - started) }, 'suggestions ready');
    } catch (err) {
      log.warn({ err }, 'warming suggestions failed; they are computed on first request instead');
    }
  };
  /** Every town's next-question checks, in the background once the service is live. */
  const warmLater = (service: QaService): void => {
    const started = performance.now();
    warmNextQuestions(service, embed).then(
      () => log.info({ ms: Math.round(performance.now() - started) }, 'next questions ready'),
      (err: unknown) => log.warn({ err }, 'warming next questions failed; they are computed on request instead'),
    );
  };
  let startup: Promise<unknown> = Promise.resolve();
  const rebuild: Rebuild = async ({ full }) => {
    await startup.catch(() => undefined);
    const model = await embedder;
    // Staff cannot fix a damaged file mid-run: it is skipped and reported, the rest is indexed.
    const summary = await runIngest(config, model, { skipBad: true, full });
    const { service } = await openRuntime(config, log, model);
    return { service: metrics.instrumentService(service), summary };
  };
  const reindexer = createReindexer({
    holder,
    rebuild,
    onFinish(job, ms) {
      metrics.recordIngest(job.state === 'succeeded' ? 'succeeded' : 'failed', ms / 1000);
      // The reindexer swapped the new service in already: warm it as it serves.
      if (job.state === 'succeeded' && holder.current()) void warmFirst(holder.current()!).then(() => warmLater(holder.current()!));
      if (job.state === 'succeeded') log.info({ job: job.id, trigger: job.trigger, ms: Math.round(ms), ...job.summary, embedded: job.summary?.embedded.length, reused: job.summary?.reused.length }, 'reindexed: new index live');
      else log.error({ job: job.id, trigger: job.trigger, code: job.error?.code }, `reindex failed, previous index still serving: ${job.error?.message}`);
    },
  });
  let stopping = false;

  const app = createApp({
    getService: holder.current,
    getLoadError: holder.loadError,
    logQuestions: config.logQuestions,
    metrics,
    metricsToken: config.metricsToken,
    isShuttingDown: () => stopping,
    admin: config.adminToken
      ? {
          token: config.adminToken,
          reports: createReportStore({ corpusDir: config.corpusDir, maxBytes: config.maxUploadBytes }),
          reindexer,
          audit: createAuditLog({ file: config.auditLog, logger: log }),
          getService: holder.current,
          readManifest: () => {
            try {
              return readManifest(config.indexDir);
            } catch {
              return undefined;
            }
          },
          maxUploadBytes: config.maxUploadBytes,
        }
      : undefined,
    maxQuestionChars: config.maxQuestionChars,
    defaultTopK: config.defaultTopK,
    logger: log,
    allowedOrigins: config.allowedOrigins,
    rateLimitPerMinute: config.rateLimitPerMinute,
    apiTokens: config.apiTokens,
    feedback: { store: createFileFeedbackStore({ dir: config.feedbackDir }), embed, towns, perMinute: config.feedbackPerMinute },
  });

  const server = http.createServer(app);
  // Slow-loris guards: a client gets this long to send its headers and its whole request.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  server.once('error', (err: NodeJS.ErrnoException) => {
    log.fatal({ code: err.code }, `cannot listen on ${config.host}:${config.port}: ${err.message}`);
    process.exit(1);
  });

  server.listen(config.port, config.host, () => {
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    log.info({ host: address, port, admin: Boolean(config.adminToken) }, `listening on http://${host}:${port}`);
    // The very object that goes live is warmed: suggestions are kept per service object.
    const opened = embedder
      .then((model) => openRuntime(config, log, model))
      .then(async (runtime) => {
        const loaded = metrics.instrumentService(runtime.service);
        await warmFirst(loaded);
        return loaded;
      });
    startup = opened;
    opened.then(
      (loaded) => {
        // A reindex that finished first (an admin fixing a missing index) wins.
        if (!holder.current()) holder.swap(loaded);
        warmLater(holder.current()!);
        const { documents, chunks } = loaded.stats();
        log.info({ documents, chunks, embeddingModel: loaded.embeddingModel, indexVersion: loaded.indexVersion }, 'service ready');
      },
      (err: unknown) => {
        const loadError = isAppError(err)
          ? err
          : new AppError('E_INDEX_MISSING', `index could not be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        holder.fail(loadError);
        // The message says what to run; the API keeps answering 503 with it until a restart or a reindex.
        log.error({ code: loadError.code, err: isAppError(err) ? undefined : err }, `service not loaded: ${loadError.message}`);
      },
    );
  });

  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close((err) => {
      if (err) log.error({ err }, 'error while closing the server');
      process.exit(err ? 1 : 0);
    });
    // Keep-alive connections with no request in flight would hold close() open.
    server.closeIdleConnections();
    setTimeout(() => {
      log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'requests still open after the grace period: exiting');
      server.closeAllConnections();
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

try {
  main();
} catch (err) {
  exitWithError(err);
}
