/**
 * Entry point of `npm start`: listens at once (so /api/health can say `loading`), then loads the
 * QA service — fetching the model and building the index when missing — and swaps it in. A
 * failed load is logged and reported as 503 with its message; the process keeps serving.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QaService } from '../answer/service.js';
import { AppError, isAppError } from '../errors.js';
import { createApp } from '../server/app.js';
import { createLogger, exitWithError, loadConfig, openService } from './runtime.js';

/** How long in-flight requests get to finish after SIGTERM/SIGINT before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

function main(): void {
  const config = loadConfig();
  const log = createLogger(config);

  let service: QaService | undefined;
  let loadError: AppError | undefined;
  const app = createApp({
    getService: () => service,
    getLoadError: () => loadError,
    maxQuestionChars: config.maxQuestionChars,
    defaultTopK: config.defaultTopK,
    logger: log,
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
    log.info({ host: address, port }, `listening on http://${host}:${port}`);
    openService(config, log).then(
      (loaded) => {
        service = loaded;
        const { documents, chunks } = loaded.stats();
        log.info({ documents, chunks, embeddingModel: loaded.embeddingModel, indexVersion: loaded.indexVersion }, 'service ready');
      },
      (err: unknown) => {
        loadError = isAppError(err)
          ? err
          : new AppError('E_INDEX_MISSING', `index could not be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        // The message says what to run; the API keeps answering 503 with it until a restart.
        log.error({ code: loadError.code, err: isAppError(err) ? undefined : err }, `service not loaded: ${loadError.message}`);
      },
    );
  });

  let stopping = false;
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
