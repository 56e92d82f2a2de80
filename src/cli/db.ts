/**
 * Entry point of `npm run db:migrate` and `npm run db:import`: the PostgreSQL index store's schema
 * migrations, and the copy of the built file index (INDEX_DIR) into it under the same generation
 * name. Both need DATABASE_URL (npm run db:embedded starts a development server).
 */
import { Command } from 'commander';
import { AppError } from '../errors.js';
import { importFileIndexDir } from '../store/import.js';
import { recordedModel } from '../store/open.js';
import { migrate } from '../store/postgres/migrate.js';
import { createPostgresStore } from '../store/postgres/store.js';
import { exitWithError, loadConfig } from './runtime.js';
import path from 'node:path';

function databaseUrl(): string {
  const url = loadConfig().databaseUrl;
  if (!url) throw new AppError('E_CONFIG', 'db: set DATABASE_URL (e.g. postgres://postgres:postgres@127.0.0.1:5432/postgres; `npm run db:embedded -- --port 5432` starts a development server)');
  return url;
}

const program = new Command().name('db').description('PostgreSQL index store: schema and import');

program
  .command('migrate')
  .description('create or upgrade the schema (numbered SQL files, each applied once)')
  .action(async () => {
    const applied = await migrate(databaseUrl());
    process.stdout.write(applied.length ? `db: applied migration(s) ${applied.join(', ')}\n` : 'db: schema up to date\n');
  });

program
  .command('import')
  .description('copy the live generation of the file index (INDEX_DIR) into the database and publish it')
  .option('--index-dir <dir>', 'file index to copy (default INDEX_DIR)')
  .action(async (opts: { indexDir?: string }) => {
    const config = loadConfig();
    const url = databaseUrl();
    const indexDir = opts.indexDir ? path.resolve(opts.indexDir) : config.indexDir;
    // A faithful copy: the model the index was built with is the one recorded; readers check theirs.
    const expect = recordedModel(indexDir);
    if (!expect) throw new AppError('E_INDEX_MISSING', `db: no index in ${indexDir}; run \`npm run ingest\` first`);
    await migrate(url);
    const store = createPostgresStore({ connectionString: url, ...expect });
    try {
      const started = Date.now();
      const result = await importFileIndexDir(indexDir, store, {
        onProgress: (done, total) => process.stderr.write(`db: chunks ${done}/${total}\n`),
      });
      process.stdout.write(
        result.imported
          ? `db: imported and published ${result.generation} (${result.documents} documents, ${result.chunks} chunks) in ${Date.now() - started} ms\n`
          : `db: ${result.generation} is already the published generation; nothing to do\n`,
      );
    } finally {
      await store.close();
    }
  });

program.parseAsync().catch(exitWithError);
