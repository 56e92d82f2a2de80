/**
 * Runs an ingest (model fetch, then ingestCorpus, then, with a publish target, the import of the
 * new generation into the PostgreSQL store) in a child process, so that the caller's event
 * loop stays free (a server keeps answering health probes and signals while the index is built),
 * a runaway build is bounded by its own heap limit, and a build can be stopped at any moment.
 *
 * API:
 *
 *   runIngestInChild(options: IngestRunOptions): Promise<IngestSummary>
 *
 *   - options.corpusDir, indexDir, skipBad, full: as for ingestCorpus (src/index/build.ts).
 *   - options.publish: `{ kind: 'postgres', databaseUrl }` (INDEX_STORE=postgres): once the build
 *     is written to indexDir (the staging area and incremental cache: unchanged files keep their
 *     vectors), the child publishes that generation into the database (publishFileIndex,
 *     src/store/import.ts) before it answers; the summary's `published` says what was written.
 *     A database that is down fails the run with E_STORE; what the database published before
 *     keeps serving. Unset: the file index alone.
 *   - options.model: where the model lives and how to fetch it (EnsureModelOptions' fields) and how
 *     to load it (EmbedderOptions' fields). The child fetches the model when it is missing, then
 *     loads it: the caller need not have it loaded.
 *   - options.onProgress(event: IngestProgress): `{ stage: 'model', done: 0, total: 0, message }`
 *     for each step of the model fetch and load, then `{ stage: 'load' | 'parse' | 'embed' |
 *     'write', done, total }` as ingestCorpus reports them (embed counts unique texts, n/m), then
 *     `{ stage: 'publish', done, total }` in chunks written to the database, with a publish target.
 *   - options.signal: aborting it stops the child within 2 s (SIGTERM, then SIGKILL of its whole
 *     process group after 1 s, so a `mvn` it started goes too) and rejects with E_ABORTED. The
 *     previous index stays live: generations are written beside it and CURRENT is switched last,
 *     by rename (src/index/store.ts). An abort that lands inside the final synchronous write
 *     (a fraction of a second) may let that complete generation go live instead; never a partial one.
 *     An abort (or a kill -9) while publishing into the database leaves the database's published
 *     generation serving: the pointer row is switched last, and the partial rows of the dead writer
 *     are deleted by the next one (the PostgreSQL store's beginGeneration).
 *   - options.maxHeapMb: the child's V8 heap limit (--max-old-space-size). Default 2048.
 *   - options.env: the child's environment. Default: this process's.
 *
 *   Rejects with the ingest's own AppError (E_PARSE, E_BUSY, E_MODEL_FETCH ... with its message),
 *   with E_INGEST_CRASHED naming the exit code or signal, whether the heap limit was reached, and
 *   the end of the child's stderr when the child dies without an answer, or with E_ABORTED.
 *
 * The child runs src/cli/ingest-child.ts with the same Node executable; when this file is TypeScript
 * (tsx, vitest) the child gets tsx's loader, so it works under `npm run ...` and in tests alike.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EmbedderOptions } from '../embed/embedder.js';
import type { EnsureModelOptions } from '../embed/model-fetch.js';
import { AppError, isAppError, type ErrorCode } from '../errors.js';
import type { PublishResult, PublishTarget } from '../store/import.js';
import type { IngestStage, IngestSummary } from './build.js';

export type IngestRunStage = 'model' | IngestStage | 'publish';

/**
 * About two minutes of waiting for another writer in all (E_BUSY: another replica's upload, a
 * server's reindex, a CLI ingest). A retry is a new build that reads the corpus when it starts,
 * after the other writer has published, so it holds that writer's changes as well as its own: it
 * cannot put an older index over a newer one. A writer that died leaves a lock the next try takes
 * over, so the waits end.
 */
export const BUSY_RETRY_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 30_000, 30_000];

/**
 * Runs `run` again while it fails with E_BUSY, waiting `waits[i]` ms before retry i + 1 and telling
 * `onWait` first. Any other error, and E_BUSY once the waits are used up, is thrown.
 */
export async function retryWhileBusy<T>(run: () => Promise<T>, waits: readonly number[], onWait?: (retry: number, waitMs: number, err: AppError) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (!(isAppError(err) && err.code === 'E_BUSY') || attempt >= waits.length) throw err;
      const waitMs = waits[attempt]!;
      onWait?.(attempt + 1, waitMs, err);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** What a child ingest did: ingestCorpus's summary and, with a publish target, the publish. */
export type IngestRunSummary = IngestSummary & { published?: PublishResult };

/** One progress report of a child ingest. */
export interface IngestProgress {
  stage: IngestRunStage;
  /** Items done in this stage (0 for `model`). */
  done: number;
  /** Items in this stage (0 for `model`). */
  total: number;
  /** What is happening, for `model` (e.g. `checking …`, `loading the model`). */
  message?: string;
  /** Set when the message says a way of fetching the model failed (the next one is tried). */
  warning?: boolean;
}

/** What the child needs to fetch and load the model. Plain data: it crosses the process boundary. */
export type ChildModelOptions = Pick<EnsureModelOptions, 'modelDir' | 'modelId' | 'hfEndpoint' | 'mavenVersions'> &
  Pick<EmbedderOptions, 'batchSize' | 'queryInstruction'>;

export interface IngestRunOptions {
  corpusDir: string;
  indexDir: string;
  model: ChildModelOptions;
  /** Skip files that cannot be read instead of failing. Default false. */
  skipBad?: boolean;
  /** Re-process every file even when unchanged. Default false. */
  full?: boolean;
  /** Where the new generation is published besides indexDir (see the module comment). Default: nowhere. */
  publish?: PublishTarget | undefined;
  onProgress?: (event: IngestProgress) => void;
  /** Stops the child (see the module comment). */
  signal?: AbortSignal;
  /** V8 heap limit of the child, in MB. Default {@link DEFAULT_INGEST_HEAP_MB}. */
  maxHeapMb?: number;
  /** Environment of the child. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Passages cited per answer (config DEFAULT_TOP_K), for the suggestion check at the end of ingest. Default 5. */
  defaultTopK?: number;
}

export const DEFAULT_INGEST_HEAP_MB = 2048;

/** How long the child gets to exit on SIGTERM before its process group is killed. */
const TERM_GRACE_MS = 1000;

/** Messages from parent to child. */
export interface StartMessage {
  type: 'start';
  corpusDir: string;
  indexDir: string;
  model: ChildModelOptions;
  skipBad: boolean;
  full: boolean;
  /** Passages cited per answer (config DEFAULT_TOP_K): the suggestion check asks as the live service does. */
  defaultTopK: number;
  /** Publish the new generation there once it is built (null: the file index only). */
  publish: PublishTarget | null;
}

/** Messages from child to parent. */
export type ChildMessage =
  | { type: 'progress'; event: IngestProgress }
  | { type: 'done'; summary: IngestRunSummary }
  | { type: 'error'; code: ErrorCode; message: string };

/** The child entry (src/cli/ingest-child), and the Node flags that let it load TypeScript when needed. */
function childCommand(): { entry: string; loaderArgs: string[] } {
  const here = fileURLToPath(import.meta.url);
  const typescript = here.endsWith('.ts');
  const entry = path.join(path.dirname(here), '..', 'cli', `ingest-child.${typescript ? 'ts' : 'js'}`);
  if (!typescript) return { entry, loaderArgs: [] };
  // The parent may run under tsx (its loader is in execArgv) or under vitest (vite transforms
  // in-process; nothing in execArgv): resolve tsx's loader from this project either way.
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { entry, loaderArgs: ['--import', loader] };
}

export function runIngestInChild(options: IngestRunOptions): Promise<IngestRunSummary> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortedError());
  const heapMb = Math.max(16, Math.floor(options.maxHeapMb ?? DEFAULT_INGEST_HEAP_MB));
  const { entry, loaderArgs } = childCommand();

  return new Promise<IngestRunSummary>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = fork(entry, [], {
        execPath: process.execPath,
        execArgv: [...loaderArgs, `--max-old-space-size=${heapMb}`],
        // Unset: the child inherits this process' environment (fork's default).
        ...(options.env ? { env: options.env } : {}),
        // Its own process group: a terminal's Ctrl-C reaches only the caller, which decides, and
        // an abort can kill the child together with anything it started.
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
    } catch (cause) {
      reject(new AppError('E_INGEST_CRASHED', `ingest: could not start the ingest process: ${(cause as Error).message}`, { cause }));
      return;
    }
    // Below the caller: a server's event loop (probes, answers) goes first when the cores are busy,
    // and the threads the child starts (onnxruntime's) inherit this.
    try {
      if (child.pid) os.setPriority(child.pid, Math.min(19, os.getPriority() + 10));
    } catch {
      // Not allowed here: the child runs at the caller's priority.
    }

    // The last 4,000 characters, from a line's start, and V8's FATAL ERROR line on its own: after
    // an out-of-memory abort, the native stack trace that follows it can be longer than the tail.
    let stderrTail = '';
    let fatalLine = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = stderrTail + chunk.toString('utf8');
      fatalLine ||= /^.*FATAL ERROR.*\n/m.exec(text)?.[0].trim() ?? '';
      const cut = text.indexOf('\n', text.length - 4000);
      stderrTail = text.length <= 4000 ? text : cut >= 0 ? text.slice(cut + 1) : text.slice(-4000);
    });

    let outcome: { summary: IngestRunSummary } | { error: AppError } | undefined;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;

    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const onAbort = (): void => {
      if (aborted || child.exitCode !== null || child.signalCode !== null) return;
      aborted = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), TERM_GRACE_MS);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    child.on('message', (raw: unknown) => {
      const message = raw as ChildMessage;
      if (message.type === 'progress') {
        if (!aborted) options.onProgress?.(message.event);
      } else if (message.type === 'done') {
        outcome = { summary: message.summary };
      } else if (message.type === 'error') {
        outcome = { error: new AppError(message.code, message.message) };
      }
    });

    child.once('error', (err) => {
      // Spawning failed (the exit event may not follow).
      if (child.pid === undefined) {
        signal?.removeEventListener('abort', onAbort);
        reject(new AppError('E_INGEST_CRASHED', `ingest: could not start the ingest process: ${err.message}`, { cause: err }));
      }
    });

    child.once('exit', (code, sig) => {
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      // Whatever the child left running in its group (a mvn) goes with it.
      killGroup('SIGKILL');
      if (aborted && !(outcome && 'summary' in outcome)) return reject(abortedError());
      if (outcome && 'summary' in outcome) return resolve(outcome.summary);
      if (outcome) return reject(outcome.error);
      reject(crashError(code, sig, heapMb, stderrTail, fatalLine));
    });

    const start: StartMessage = {
      type: 'start',
      corpusDir: options.corpusDir,
      indexDir: options.indexDir,
      model: options.model,
      skipBad: options.skipBad ?? false,
      full: options.full ?? false,
      defaultTopK: options.defaultTopK ?? 5,
      publish: options.publish ?? null,
    };
    child.send(start);
  });
}

function abortedError(): AppError {
  return new AppError('E_ABORTED', 'ingest: stopped before it finished; the previous index (if any) is unchanged');
}

function crashError(code: number | null, signal: NodeJS.Signals | null, heapMb: number, stderr: string, fatalLine: string): AppError {
  const outOfMemory = /heap limit|heap out of memory|allocation failed/i.test(`${fatalLine}\n${stderr}`);
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  const why = outOfMemory ? `: it ran out of memory (heap limit ${heapMb} MB; raise INGEST_HEAP_MB)` : '';
  // V8's native stack frames (`12: 0x1231b59 v8::...`) say nothing to the reader: keep the rest.
  const lines = stderr.split('\n').filter((l) => l.trim() && !/^\s*\d+: 0x[0-9a-f]+/i.test(l));
  const fatal = fatalLine || lines.find((l) => /FATAL ERROR/.test(l));
  const tail = (outOfMemory && fatal ? [fatal] : lines.slice(-6)).join('\n').trim();
  return new AppError(
    'E_INGEST_CRASHED',
    `ingest: the ingest process ${how} before it finished${why}; the previous index (if any) is unchanged${tail ? `. Its last output:\n${tail}` : ''}`,
  );
}
