/**
 * Entry point of `npm start`: listens at once, then loads the QA service and swaps it in. With no
 * index yet, it first builds one in a child process (src/index/ingest-runner.ts: model fetch,
 * embedding) while /api/health/live answers 200 and the API 503 E_INDEX_BUILDING with the stage
 * and progress, the terminal shows the ingest's bars, and SIGINT/SIGTERM stop the build within
 * 2 s leaving the index folder as it was. A failed load is logged and reported as 503 with its
 * message; the process keeps serving.
 */
import 'dotenv/config';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QaService } from '../qa/service.js';
import { loadConfig } from '../config.js';
import type { Embedder } from '../embed/embedder.js';
import { AppError, isAppError } from '../errors.js';
import { hasFileIndex } from '../store/open.js';
import type { BuildProgress } from '../server/app.js';
import type { Rebuild } from '../server/service-holder.js';
import type { IndexStore } from '../store/index-store.js';
import { trackConnections } from '../server/shutdown.js';
import { loadTownsConfig } from '../towns-config.js';
import { createLogger, exitWithError } from './logger.js';
import { createProgressDisplay } from './progress.js';
import type { Runtime } from './runtime.js';

/**
 * Only what listening needs is imported up front. The Express app, the model, the answering code
 * and the ingest runner are imported once the server listens: on a busy machine importing them
 * takes a second or more, and liveness must answer from the first. In that moment
 * {@link answerWhileStarting} answers.
 */
let runtimeModule: Promise<typeof import('./runtime.js')> | undefined;
const loadRuntime = (): Promise<typeof import('./runtime.js')> => (runtimeModule ??= import('./runtime.js'));

/** How long in-flight requests get to finish after SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The answers of the moment between listening and the Express app being loaded: liveness is 200,
 * health and readiness say `loading`, everything else is 503 with the code the app would give.
 */
function answerWhileStarting(req: http.IncomingMessage, res: http.ServerResponse, mustBuild: boolean): void {
  const route = (req.url ?? '').split('?')[0];
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  if (route === '/api/health/live' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.end(JSON.stringify({ status: 'alive' }));
    return;
  }
  res.statusCode = 503;
  res.setHeader('Retry-After', '1');
  if (route === '/api/health' || route === '/api/health/ready') {
    res.end(JSON.stringify({ status: 'loading' }));
    return;
  }
  const error = mustBuild
    ? { code: 'E_INDEX_BUILDING', message: 'the server is starting and will build the index first; retry shortly, GET /api/health/ready follows it' }
    : { code: 'E_INDEX_MISSING', message: 'index not loaded yet: the server is starting; retry shortly' };
  res.end(JSON.stringify({ error }));
}

/** How often a server checks whether another process published a new index (replicas on one store). */
const REPLICA_POLL_MS = 1000;

function main(): void {
  const config = loadConfig();
  const log = createLogger(config);
  // A bad settings file stops the start here, with the file and the field named.
  const towns = loadTownsConfig(config.townsFile);
  let stopping = false;
  /** Where the first-index build is, while there is one (the API reports it in its 503s). */
  let building: BuildProgress | undefined;
  /** Stops the first-index build (SIGINT/SIGTERM). */
  const buildAbort = new AbortController();
  /** Stops a running reindex's child on shutdown (the current index stays as it is). */
  const reindexAbort = new AbortController();
  /** Settles when no reindex runs (set once the reindexer exists). */
  let reindexIdle: () => Promise<void> = async () => undefined;
  /** Waits for the embedding under way and takes no more (set once the model is being loaded). */
  let closeEmbedder: () => Promise<void> = async () => undefined;
  /** Closes the rate limit's database pool (set once it exists). */
  let closeRateLimits: () => Promise<void> = async () => undefined;
  /** How the first-index build's child process ended (settles once it has exited); none: no build. */
  let buildRun: Promise<'finished' | 'stopped' | 'failed' | 'none'> = Promise.resolve('none');
  // A missing file index is built here; a database is filled by `npm run ingest` or an admin reindex (its child publishes), never at start-up.
  const needsFirstBuild = (): boolean => config.indexStore === 'file' && !hasFileIndex(config.indexDir);
  const mustBuild = needsFirstBuild();

  /** The Express app, once imported and built (see answerWhileStarting). */
  let app: http.RequestListener | undefined;
  const server = http.createServer((req, res) => (app ? app(req, res) : answerWhileStarting(req, res, mustBuild)));
  const connections = trackConnections(server);
  // Slow-loris guards: a client gets this long to send its headers and its whole request.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  server.once('error', (err: NodeJS.ErrnoException) => {
    log.fatal({ code: err.code }, `cannot listen on ${config.host}:${config.port}: ${err.message}`);
    process.exit(1);
  });

  /** Builds the app and swaps it in, then builds the index if there is none, then loads the service. */
  const startServing = async (url: string): Promise<void> => {
    const [
      { createAuditLog },
      { createReportStore },
      { createApp },
      { createMetrics },
      { createReindexer, createServiceHolder },
      { createFileFeedbackStore },
      { warmNextQuestions },
    ] = await Promise.all([
      import('../admin/audit.js'),
      import('../admin/reports.js'),
      import('../server/app.js'),
      import('../server/metrics.js'),
      import('../server/service-holder.js'),
      import('../feedback/store.js'),
      import('../server/feedback-routes.js'),
    ]);
    // The live service sits in a holder: a reindex (admin API) swaps a new one in while serving.
    const holder = createServiceHolder();
    const metrics = createMetrics({ processMetrics: true });
    metrics.watchService(holder.current);
    // The model loads once, in this process; the startup load and every reindex use it. Not before
    // a first-index build is over: that build's child fetches the model if it is missing.
    let embedder: Promise<Embedder> | undefined;
    const openModel = (): Promise<Embedder> =>
      (embedder ??= loadRuntime()
        .then(({ openEmbedder }) => openEmbedder(config, log))
        .then((e) => metrics.instrumentEmbedder(e)));
    closeEmbedder = async () => {
      if (embedder) await (await embedder).close?.();
    };
    const embed = async (text: string): Promise<Float32Array> => (await openModel()).embedQuery(text);
    // One index store for the process: the start-up load, every reindex and every replica reload
    // read through it (a PostgreSQL store's pool is opened once, not per reload).
    let indexStore: Promise<IndexStore> | undefined;
    const openServingStore = (): Promise<IndexStore> => (indexStore ??= Promise.all([openModel(), loadRuntime()]).then(([model, { openStore }]) => openStore(config, model)));
    /** Every town's next-question checks, in the background once the service is live. */
    const warmLater = (service: QaService): void => {
      const started = performance.now();
      warmNextQuestions(service, embed).then(
        () => log.info({ ms: Math.round(performance.now() - started) }, 'next questions ready'),
        (err: unknown) => {
          // Shutting down: the embedder takes no more work, so the warming stops; nothing failed.
          if (!stopping) log.warn({ err }, 'warming next questions failed; they are computed on request instead');
        },
      );
    };
    /** The start-up load; a reindex waits for it. */
    let startup: Promise<unknown> = Promise.resolve();
    const rebuild: Rebuild = async ({ full, onProgress }) => {
      await startup.catch(() => undefined);
      const model = await openModel();
      const { openRuntime, runIngestChild } = await loadRuntime();
      // In a child process: parsing and embedding never block this event loop, a parser bomb or
      // an out-of-memory kills only the child (the job fails with E_INGEST_CRASHED), and the
      // current index keeps answering until the new one is loaded and swapped in.
      // Staff cannot fix a damaged file mid-run: it is skipped and reported, the rest is indexed.
      const summary = await runIngestChild(config, { skipBad: true, full, signal: reindexAbort.signal, ...(onProgress ? { onProgress } : {}) });
      if (summary.staleLock) log.warn({ holder: summary.staleLock.holder }, `reindex took over a stale write lock: ${summary.staleLock.reason}`);
      const { service } = await openRuntime(config, log, model, await openServingStore());
      return { service: metrics.instrumentService(service), summary };
    };
    const reindexer = createReindexer({
      holder,
      rebuild,
      onFinish(job, ms) {
        metrics.recordIngest(job.state === 'succeeded' ? 'succeeded' : 'failed', ms / 1000);
        if (job.state === 'succeeded') log.info({ job: job.id, trigger: job.trigger, ms: Math.round(ms), ...job.summary, embedded: job.summary?.embedded.length, reused: job.summary?.reused.length }, 'reindexed: new index live');
        else log.error({ job: job.id, trigger: job.trigger, code: job.error?.code }, `reindex failed, previous index still serving: ${job.error?.message}`);
        // The reindexer swapped the new service in already: warm it as it serves.
        const live = holder.current();
        if (job.state === 'succeeded' && live) warmLater(live);
      },
    });
    reindexIdle = () => reindexer.idle();
    // Replicas on one database count each client's requests together (its rate_limits table).
    const rateLimitCounter =
      config.indexStore === 'postgres' && config.databaseUrl
        ? (await import('../store/postgres/rate-limits.js')).createPostgresRateLimits({ connectionString: config.databaseUrl })
        : undefined;
    if (rateLimitCounter) closeRateLimits = () => rateLimitCounter.close();
    app = createApp({
      getService: holder.current,
      getLoadError: holder.loadError,
      getBuildProgress: () => building,
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
            maxUploadBytes: config.maxUploadBytes,
          }
        : undefined,
      maxQuestionChars: config.maxQuestionChars,
      defaultTopK: config.defaultTopK,
      logger: log,
      allowedOrigins: config.allowedOrigins,
      rateLimitPerMinute: config.rateLimitPerMinute,
      rateLimitCounter,
      trustProxy: config.trustProxy,
      apiTokens: config.apiTokens,
      feedback: { store: createFileFeedbackStore({ dir: config.feedbackDir }), embed, towns, perMinute: config.feedbackPerMinute },
    });

    /** Builds the first index in a child process, showing its progress; resolves once it is live. */
    const buildFirstIndex = async (): Promise<void> => {
      building = { stage: 'model', done: 0, total: 0, message: 'starting' };
      const started = Date.now();
      let lastTenth = -1;
      const display = createProgressDisplay({
        // Without a terminal (a service manager, CI): a log line per finished stage and per tenth of the embedding.
        onLine(stage, done, total) {
          const tenth = total > 0 ? Math.floor((10 * done) / total) : 0;
          if (done !== total && !(stage === 'embed' && tenth > lastTenth)) return;
          lastTenth = stage === 'embed' ? tenth : -1;
          log.info({ stage, done, total }, `building the index: ${stage} ${done}/${total}`);
        },
      });
      try {
        const { runIngestChild } = await loadRuntime();
        const run = runIngestChild(config, {
          signal: buildAbort.signal,
          onProgress(event) {
            building = event;
            if (event.stage === 'model') log[event.warning ? 'warn' : 'info']({ stage: 'model' }, `building the index: ${event.message ?? 'model'}`);
            else display.update(event.stage, event.done, event.total);
          },
        });
        buildRun = run.then(
          () => 'finished' as const,
          (err: unknown) => (isAppError(err) && err.code === 'E_ABORTED' ? ('stopped' as const) : ('failed' as const)),
        );
        const summary = await run;
        display.stop();
        log.info({ documents: summary.documents, chunks: summary.chunks, texts: summary.textsEmbedded, ms: Date.now() - started, indexVersion: summary.indexVersion }, 'index built');
      } finally {
        display.stop();
      }
    };

    const prepare = async (): Promise<QaService> => {
      try {
        if (needsFirstBuild()) await buildFirstIndex();
        // A stop that came just as the build finished: do not start loading what nobody will serve.
        if (buildAbort.signal.aborted) throw new AppError('E_ABORTED', 'shutting down');
        building &&= { stage: 'open', done: 0, total: 0, message: 'loading the new index and the model' };
        const model = await openModel();
        const runtime: Runtime = await (await loadRuntime()).openRuntime(config, log, model, await openServingStore());
        // First-open suggestions and the commitment book are stored with the index: nothing to warm.
        return metrics.instrumentService(runtime.service);
      } finally {
        building = undefined;
      }
    };

    /**
     * Replicas on one index: a generation another process publishes (a reindex or upload through
     * another server on the same store) is loaded and swapped in as this process's own would be.
     * Polled; a change seen while loading is caught by the loop, which runs until this process
     * serves what is published, and never swaps in a generation older than the published one.
     */
    const followPublishes = (since: string): void => {
      let following: Promise<void> | undefined;
      const follow = (): void => {
        following ??= (async () => {
          const [model, store, { openRuntime }] = await Promise.all([openModel(), openServingStore(), loadRuntime()]);
          try {
            for (;;) {
              // This process's own reindex swaps in what it published: wait for it, not load it twice.
              await reindexer.idle();
              const published = await store.publishedGeneration();
              if (stopping || !published || holder.current()?.indexVersion === published) return;
              const { service } = await openRuntime(config, log, model, store);
              if (stopping) return;
              if (service.indexVersion === (await store.publishedGeneration()) && holder.current()?.indexVersion !== service.indexVersion) {
                const live = metrics.instrumentService(service);
                holder.swap(live);
                warmLater(live);
                log.info({ indexVersion: service.indexVersion }, 'another process published a new index: now serving it');
              }
            }
          } catch (err) {
            log.warn({ err }, 'loading the index another process published failed; still serving the previous one');
          } finally {
            following = undefined;
          }
        })();
      };
      openServingStore().then(
        (store) => store.watch(follow, { intervalMs: REPLICA_POLL_MS, since, onError: (err: unknown) => log.warn({ err }, 'polling the published index failed') }),
        (err: unknown) => log.warn({ err }, 'not following other processes: the index store could not be opened'),
      );
    };

    const opened = prepare();
    startup = opened;
    opened.then(
      (loaded) => {
        // A reindex that finished first (an admin fixing a missing index) wins.
        if (!holder.current()) {
          holder.swap(loaded);
          warmLater(loaded);
        }
        followPublishes(loaded.indexVersion);
        const { documents, chunks } = loaded.stats();
        log.info({ documents, chunks, embeddingModel: loaded.embeddingModel, indexVersion: loaded.indexVersion }, `ready: answering questions on ${url}`);
      },
      (err: unknown) => {
        // Shutting down during the build: the shutdown says how it ended.
        if (isAppError(err) && err.code === 'E_ABORTED') return;
        const loadError = isAppError(err)
          ? err
          : new AppError('E_INDEX_MISSING', `index could not be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        holder.fail(loadError);
        // The message says what to run; the API keeps answering 503 with it until a restart or a reindex.
        log.error({ code: loadError.code, err: isAppError(err) ? undefined : err }, `service not loaded: ${loadError.message}`);
      },
    );
  };

  server.listen(config.port, config.host, () => {
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    const url = `http://${host}:${port}`;
    log.info(
      { host: address, port, admin: Boolean(config.adminToken), building: mustBuild },
      mustBuild
        ? `listening on ${url}, not answering questions yet: building the index first (none in ${config.indexDir}; about a minute on 2 cores). ` +
            `Progress below and at ${url}/api/health/ready (503 E_INDEX_BUILDING until it is ready); Ctrl-C stops the build and leaves the index folder as it was`
        : `listening on ${url}; loading the index (a few seconds: ${url}/api/health/ready says when questions are answered)`,
    );
    startServing(url).catch((err: unknown) => {
      log.fatal({ err }, 'the server could not be assembled');
      process.exit(1);
    });
  });

  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    const wasBuilding = building;
    // No reset: in-flight requests finish, kept-alive connections get 503 E_SHUTTING_DOWN with
    // Connection: close for their next request, new connections are refused (src/server/shutdown.ts).
    // While the first index is being built nothing is answered but probes and 503s: idle
    // kept-alive connections close at once, so the process ends within 2 s of the signal.
    const closed = connections.drain(wasBuilding ? { graceMs: 1500, idleMs: 0 } : { graceMs: SHUTDOWN_GRACE_MS });
    // Said once the listener is closed, so whoever reads the line finds new connections refused.
    log.info({ signal, ...(wasBuilding ? { building: wasBuilding } : {}) }, wasBuilding ? 'shutting down: stopping the index build' : 'shutting down');
    // The build's child ends within 2 s (it is SIGKILLed after 1 s); exit only once it has, so
    // nothing is left writing into the index folder.
    buildAbort.abort();
    reindexAbort.abort();
    // A reindex's child is stopped too, and waited for, so nothing is left writing the index.
    void Promise.all([closed, buildRun, reindexIdle()]).then(async ([how, build]) => {
      // After the last request: nothing counts any more.
      await closeRateLimits().catch(() => undefined);
      // A process that exits while a worker is inside a forward pass aborts (src/embed/pool.ts: close).
      await closeEmbedder().catch(() => undefined);
      if (build === 'stopped') log.info({}, 'index build stopped; the index folder is as it was');
      else if (build === 'finished' && wasBuilding) log.info({}, 'the index build had just finished: the new index is in place');
      if (how === 'cut') log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'requests still open after the grace period: connections cut');
      else log.info({}, 'all connections closed: exiting');
      process.exit(how === 'cut' ? 1 : 0);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

try {
  main();
} catch (err) {
  exitWithError(err);
}
