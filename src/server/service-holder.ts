/**
 * The live QA service of a running server, and reindexing while it serves. A reindex builds the
 * new index and service completely (ingest, load, construct) while the old one keeps answering,
 * then swaps the reference: a request reads the holder once and keeps that service to its end,
 * so no request ever sees a half-built index and none fails because of a swap. Reindexes are
 * serialized: one runs at a time, and requests arriving meanwhile share the one queued after it.
 */
import type { QaService } from '../qa/service.js';
import { AppError, isAppError } from '../errors.js';
import type { IngestSummary } from '../index/build.js';
import { BUSY_RETRY_MS, retryWhileBusy } from '../index/ingest-runner.js';

export interface ServiceHolder {
  /** The service to answer with, or undefined while none is loaded. */
  current(): QaService | undefined;
  /** Why the last load failed, while no service is loaded; undefined while loading. */
  loadError(): AppError | undefined;
  /** Makes `next` the live service (clearing any load error); returns the one it replaces. */
  swap(next: QaService): QaService | undefined;
  /** Records a failed load. A live service keeps serving; without one, requests get 503 and this. */
  fail(error: AppError): void;
}

export function createServiceHolder(initial?: QaService): ServiceHolder {
  let service = initial;
  let error: AppError | undefined;
  return {
    current: () => service,
    loadError: () => (service ? undefined : error),
    swap(next) {
      const previous = service;
      service = next;
      error = undefined;
      return previous;
    },
    fail(e) {
      error = e;
    },
  };
}

/** What a reindex reports, in the admin API and the CLI. */
export interface ReindexSummary {
  documents: number;
  chunks: number;
  embedded: string[];
  reused: string[];
  removed: string[];
  skipped: Array<{ file: string; message: string }>;
  duplicates: Array<{ file: string; sameAs: string }>;
  indexVersion: string;
  totalMs: number;
}

export interface ReindexJob {
  /** Increases by one per run in this process. */
  id: number;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  /** Who asked (the admin audit actor, `startup`, ...). */
  trigger: string;
  full: boolean;
  requestedAt: string;
  startedAt?: string;
  finishedAt?: string;
  summary?: ReindexSummary;
  error?: { code: string; message: string };
  /** How many times the job found another writer at work (E_BUSY) and tried again. */
  busyRetries?: number;
  /** Where a running job is: the ingest's stage and its count (embed: texts). */
  progress?: ReindexProgress;
}

/** A running reindex's stage (model, load, parse, embed, write) and how far it is. */
export interface ReindexProgress {
  stage: string;
  done: number;
  total: number;
}

export interface ReindexOptions {
  /** Re-embed every file rather than only new and changed ones. Default false. */
  full?: boolean;
  /** Who asked, for the job record. Default `unknown`. */
  trigger?: string;
}

/** Builds the next service: runs the ingest, then loads the new index into a service. */
export type Rebuild = (options: { full: boolean; onProgress?: (progress: ReindexProgress) => void }) => Promise<{ service: QaService; summary: IngestSummary }>;

export interface Reindexer {
  /**
   * Queues a reindex and returns its job at once (state `queued` or `running`); `done` settles
   * when it has finished, with the final job (never rejects: a failure is state `failed`). A
   * request made while one is already queued joins that one, which will see every change.
   */
  start(options?: ReindexOptions): { job: ReindexJob; done: Promise<ReindexJob> };
  /** The running or queued job, else the last finished one; undefined before the first. */
  status(): ReindexJob | undefined;
  /** The last finished job. */
  lastFinished(): ReindexJob | undefined;
  /** Settles when nothing is running or queued. */
  idle(): Promise<void>;
}

export interface ReindexerOptions {
  holder: ServiceHolder;
  rebuild: Rebuild;
  /** Called when a job finishes (metrics, logs). */
  onFinish?: (job: ReindexJob, ms: number) => void;
  /**
   * Waits, in ms, before each new try of a job whose rebuild found another writer at work
   * (E_BUSY: another replica's upload, a CLI ingest). Default BUSY_RETRY_MS.
   */
  busyRetryMs?: readonly number[];
}

function summarize(s: IngestSummary): ReindexSummary {
  return {
    documents: s.documents,
    chunks: s.chunks,
    embedded: s.embedded,
    reused: s.reused,
    removed: s.removed,
    skipped: s.skipped,
    duplicates: s.duplicates,
    indexVersion: s.indexVersion,
    totalMs: s.totalMs,
  };
}

export function createReindexer(options: ReindexerOptions): Reindexer {
  let nextId = 1;
  /** The tail of the chain: every job runs after the previous one settled. */
  let tail: Promise<unknown> = Promise.resolve();
  let queued: { job: ReindexJob; done: Promise<ReindexJob> } | undefined;
  let running: ReindexJob | undefined;
  let finished: ReindexJob | undefined;

  const run = async (job: ReindexJob): Promise<ReindexJob> => {
    if (queued?.job === job) queued = undefined;
    running = job;
    job.state = 'running';
    job.startedAt = new Date().toISOString();
    const started = performance.now();
    const waits = options.busyRetryMs ?? BUSY_RETRY_MS;
    const rebuild = () =>
      retryWhileBusy(
        () =>
          options.rebuild({
            full: job.full,
            onProgress: ({ stage, done, total }) => {
              job.progress = { stage, done, total };
            },
          }),
        waits,
        (retry) => {
          job.busyRetries = retry;
          job.progress = { stage: 'waiting for another writer', done: retry, total: waits.length };
        },
      );
    try {
      const { service, summary } = await rebuild();
      options.holder.swap(service);
      job.summary = summarize(summary);
      job.state = 'succeeded';
    } catch (err) {
      // The previous service (if any) keeps serving: nothing was swapped.
      const code = isAppError(err) ? err.code : 'E_REINDEX_FAILED';
      job.error = { code, message: err instanceof Error ? err.message : String(err) };
      job.state = 'failed';
    } finally {
      job.finishedAt = new Date().toISOString();
      running = undefined;
      finished = job;
    }
    options.onFinish?.(job, performance.now() - started);
    return job;
  };

  return {
    start(request = {}) {
      const full = request.full ?? false;
      // A queued (not yet started) run will read the corpus when it starts: join it, unless
      // this request wants more (a full rebuild).
      if (queued && (queued.job.full || !full)) return queued;
      const job: ReindexJob = { id: nextId++, state: 'queued', trigger: request.trigger ?? 'unknown', full, requestedAt: new Date().toISOString() };
      const done = tail.then(() => run(job));
      tail = done;
      const entry = { job, done };
      queued = entry;
      return entry;
    },
    status: () => running ?? queued?.job ?? finished,
    lastFinished: () => finished,
    idle: async () => {
      while (running || queued) await tail;
    },
  };
}

/** The error a failed job is reported with over HTTP. */
export function reindexError(job: ReindexJob): AppError {
  return new AppError('E_REINDEX_FAILED', `reindex failed, the previous index keeps serving: ${job.error?.code ?? 'E_INTERNAL'}: ${job.error?.message ?? 'unknown error'}`, { status: 500 });
}
