/**
 * Entry point of `npm run ingest`: builds or updates index/ from corpus/, with progress and a
 * summary; with INDEX_STORE=postgres it then publishes the new generation into the database
 * (index/ being the staging area and the cache of unchanged files' vectors).
 */
import fs from 'node:fs';
import { Command } from 'commander';
import type { IngestCheckpoint } from '../index/build.js';
import { BUSY_RETRY_MS, retryWhileBusy } from '../index/ingest-runner.js';
import { createProgressDisplay, stageLabel } from './progress.js';
import { createLogger, exitWithError, loadConfig, openEmbedder, runIngest } from './runtime.js';

const program = new Command()
  .name('ingest')
  .description('Build the index from the reports in CORPUS_DIR')
  .option('--skip-bad', 'skip files that cannot be read instead of failing', false)
  .option('--full', 're-process every file, even unchanged ones', false)
  .option('--wait', 'when another writer (a server reindexing, another ingest) holds the index, wait for it, about two minutes in all, instead of failing with E_BUSY', false)
  .parse();
const opts = program.opts<{ skipBad: boolean; full: boolean; wait: boolean }>();

/**
 * Test hook of the crash-safety tests (test/hardening/ingest-kill.test.ts,
 * test/store/postgres-replicas.test.ts), not a setting: INGEST_PAUSE_AT=embed|write|swap|publish
 * makes the run write `ingest: paused at <point>` to stderr at that checkpoint (see
 * IngestOptions.onCheckpoint; `publish`: after the first batch of chunks is written to the
 * database) and block there until the process is killed.
 */
type PausePoint = IngestCheckpoint | 'publish';
const PAUSE_POINTS: readonly PausePoint[] = ['embed', 'write', 'swap', 'publish'];
const pauseAt = process.env['INGEST_PAUSE_AT'];
if (pauseAt && !PAUSE_POINTS.includes(pauseAt as PausePoint)) {
  exitWithError(new Error(`INGEST_PAUSE_AT must be one of ${PAUSE_POINTS.join(', ')}, got "${pauseAt}"`));
}

function pauseForever(point: PausePoint): void {
  fs.writeSync(2, `ingest: paused at ${point}\n`);
  // Blocks the thread (timers and I/O included) until a signal ends the process.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  const embedder = await openEmbedder(config, log);
  // Without a terminal: one line per finished stage.
  const display = createProgressDisplay({ onLine: (stage, done, total) => done === total && process.stderr.write(`${stageLabel(stage)}${done}/${total}\n`) });
  const ingest = () =>
    runIngest(config, embedder, {
      skipBad: opts.skipBad,
      full: opts.full,
      ...(pauseAt ? { onCheckpoint: (point: IngestCheckpoint) => (point === pauseAt ? pauseForever(point) : undefined) } : {}),
      onProgress: (stage, done, total) => display.update(stage, done, total),
      publish: {
        onProgress: (done, total) => {
          display.update('publish', done, total);
          if (pauseAt === 'publish') pauseForever('publish');
        },
      },
    });
  // The same waits as a server's reindex job; each try is a new build (see BUSY_RETRY_MS).
  const summary = await retryWhileBusy(ingest, opts.wait ? BUSY_RETRY_MS : [], (retry, waitMs, err) => {
    process.stderr.write(`ingest: ${err.message.replace(/; run again.*$/, '')}; trying again in ${waitMs / 1000} s (wait ${retry} of ${BUSY_RETRY_MS.length})\n`);
  }).finally(() => display.stop());

  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (summary.staleLock) log.warn({ holder: summary.staleLock.holder }, `took over a stale write lock: ${summary.staleLock.reason}`);
  for (const s of summary.skipped) out(`skipped ${s.file}: ${s.message}`);
  for (const d of summary.duplicates) out(`duplicate ${d.file}: same content as ${d.sameAs}, indexed once`);
  for (const [file, n] of Object.entries(summary.spamRemoved)) if (n > 0) out(`cleaned ${file}: removed ${n} injected spam run(s)`);
  if (summary.removed.length) out(`removed from index: ${summary.removed.join(', ')}`);
  const rate = summary.embedMs > 0 ? (summary.textsEmbedded / (summary.embedMs / 1000)).toFixed(1) : '-';
  out(
    `indexed ${summary.documents} document(s), ${summary.chunks} chunks from ${summary.files} file(s) in ${(summary.totalMs / 1000).toFixed(1)} s; ` +
      `embedded ${summary.chunksEmbedded} chunks and their sentences (${summary.textsEmbedded} texts, ${summary.embedded.length} new or changed file(s), ${rate} texts/s), ` +
      `reused ${summary.reused.length} unchanged file(s); index ${summary.indexVersion}`,
  );
  const { published } = summary;
  if (published) {
    out(
      published.imported
        ? `published ${published.generation} into PostgreSQL (${published.documents} documents, ${published.chunks} chunks) in ${(published.ms / 1000).toFixed(1)} s`
        : `${published.generation} is already the generation PostgreSQL publishes; nothing written`,
    );
  }
}

main().catch(exitWithError);
