/**
 * Entry point of `npm run db:embedded -- --port N [--data DIR]`: an embedded PostgreSQL with
 * pgvector (PGlite over the wire) on 127.0.0.1:N, for trying INDEX_STORE=postgres and for tests.
 * Development only: see src/store/postgres/embedded.ts. Prints one JSON line with the URL.
 */
import { Command } from 'commander';
import { startEmbeddedPostgres } from '../store/postgres/embedded.js';

const opts = new Command()
  .name('db:embedded')
  .description('Serve an embedded PostgreSQL with pgvector (PGlite) on 127.0.0.1, for development only')
  .option('--port <n>', 'TCP port (0: any free port)', '5432')
  .option('--data <dir>', 'keep the database in this folder (default: in memory)')
  .option('--max-connections <n>', 'client connections accepted at once', '32')
  .parse()
  .opts<{ port: string; data?: string; maxConnections: string }>();

const port = Number(opts.port);
const maxConnections = Number(opts.maxConnections);
if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(maxConnections) || maxConnections < 1) {
  process.stderr.write('db:embedded: --port must be 0-65535 and --max-connections at least 1\n');
  process.exit(2);
}

const server = await startEmbeddedPostgres({ port, maxConnections, ...(opts.data ? { dataDir: opts.data } : {}) });
// One line on stdout that scripts and tests wait for; then DATABASE_URL=<url>.
process.stdout.write(`${JSON.stringify({ event: 'listening', url: server.url, port: server.port })}\n`);
process.stderr.write(`db:embedded: development PostgreSQL (PGlite + pgvector) at ${server.url}; Ctrl-C stops it${opts.data ? '' : ' and forgets its data'}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void server.stop().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
