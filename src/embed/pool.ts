/**
 * A pool of embedding worker threads behind the {@link Embedder} interface: each worker holds its
 * own onnxruntime session with one intra-op thread, so N questions embed on N cores and the
 * serving thread's event loop never waits on a forward pass. Vectors equal the in-thread ones
 * (same model, same tokenizer, same batches), which test/embed-pool.test.ts checks.
 */
import { createRequire } from 'node:module';
// Holds onnxruntime's native binding in this thread for the life of the process: a worker that
// ends unloads its copy, and onnxruntime 1.14's binding does not register again when a later
// worker (a replacement, the next pool) loads it ("Module did not self-register").
import 'onnxruntime-node';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError, type ErrorCode } from '../errors.js';
import type { EmbedReply, EmbedRequest } from './embed-worker.js';
import { modelNotUsable, type Embedder, type EmbedderOptions } from './embedder.js';
import { checkModelFiles } from './model-files.js';

export interface EmbedderPoolOptions extends EmbedderOptions {
  /** Worker threads (EMBED_WORKERS); at least 1. */
  size: number;
  /**
   * Texts a worker takes at a time from a large embedDocuments call (rounded up to whole batches).
   * Default 32: small enough to spread an ingest over every worker, large enough that messaging
   * costs nothing next to inference.
   */
  chunkSize?: number;
  /**
   * Nice value added to each worker thread (Linux), so that the event loop's thread goes first
   * when all cores are busy: a liveness probe is then not queued behind inference. Default 10; 0 keeps
   * the process's priority.
   */
  niceness?: number;
}

/** An embedder whose work runs in worker threads; close() stops giving them work (see close). */
export interface PooledEmbedder extends Embedder {
  readonly size: number;
  close(): Promise<void>;
}

interface Task {
  id: number;
  kind: EmbedRequest['kind'];
  texts: string[];
  resolve: (data: Float32Array) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
}

/** Source runs through tsx (a .ts entry needs its loader in the worker); a build runs the .js. */
function spawnWorker(options: EmbedderOptions): Worker {
  return startWorker(new URL('./embed-worker.ts', import.meta.url), options);
}

/**
 * Starts a worker thread on a module of this project given by its .ts URL: through tsx's loader
 * when running from source (tsx, vitest), on the .js beside it in a build.
 */
export function startWorker(tsEntry: URL, workerData: unknown): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = tsEntry.href;
    // The ESM build of tsx's register API (its CommonJS build resolves its own files wrongly from an
    // eval'd worker).
    const cjs = createRequire(here).resolve('tsx/esm/api');
    const tsx = pathToFileURL(path.join(path.dirname(cjs), 'index.mjs')).href;
    const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(boot, { eval: true, workerData });
  }
  return new Worker(new URL(tsEntry.href.replace(/\.ts$/, '.js')), { workerData });
}

/**
 * Starts `size` workers and resolves once every one has loaded the model; rejects with the
 * worker's error (E_MODEL_MISSING pointing at model:fetch) when one cannot.
 */
export async function createEmbedderPool(options: EmbedderPoolOptions): Promise<PooledEmbedder> {
  const size = Math.max(1, Math.floor(options.size));
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1));
  const chunkSize = Math.max(batchSize, Math.ceil((options.chunkSize ?? 32) / batchSize) * batchSize);
  const workerOptions: EmbedderOptions & { niceness: number } = {
    niceness: Math.max(0, Math.min(19, Math.floor(options.niceness ?? 10))),
    modelDir: options.modelDir,
    modelId: options.modelId,
    batchSize,
    queryInstruction: options.queryInstruction,
    maxTokens: options.maxTokens,
    intraOpThreads: options.intraOpThreads ?? 1,
  };

  // Questions go before document chunks: a reindex through the pool must not delay answers.
  const queries: Task[] = [];
  const documents: Task[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closing = false;
  // Resolved by close() once no worker is mid-inference (see close).
  let idle: (() => void) | undefined;
  let closed: Promise<void> | undefined;
  const settleIfIdle = () => {
    if (idle && slots.every((slot) => !slot.task)) idle();
  };
  let info: { embedderId: string; dimension: number } | undefined;

  const dispatch = () => {
    settleIfIdle();
    for (const slot of slots) {
      if (slot.task) continue;
      const task = queries.shift() ?? documents.shift();
      if (!task) break;
      slot.task = task;
      // A busy worker keeps the process alive until its answer arrives; an idle one does not.
      slot.worker.ref();
      slot.worker.postMessage({ id: task.id, kind: task.kind, texts: task.texts } satisfies EmbedRequest);
    }
  };

  // Workers load the model one at a time: two threads loading onnxruntime-node 1.14 at once
  // now and then corrupt the process' heap (a segfault or "corrupted double-linked list" before
  // the server is ready: 17 of 100 starts of a compiled pool of two; 0 of 100 one at a time).
  // One such crash stopped V8 in napi_delete_reference called from the addon's
  // InferenceSessionWrap::Init: each thread's Init replaces one process-wide reference, deleting
  // the previous thread's. A replacement for a lost worker waits its turn too.
  let loading: Promise<unknown> = Promise.resolve();
  const start = (): Promise<void> => {
    const started = loading.then(startNow, startNow);
    loading = started.catch(() => undefined);
    return started;
  };
  const startNow = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const slot: Slot = { worker: spawnWorker(workerOptions), task: undefined };
      let ready = false;
      slot.worker.on('message', (reply: EmbedReply) => {
        if (reply.type === 'ready') {
          ready = true;
          info ??= { embedderId: reply.embedderId, dimension: reply.dimension };
          slots.push(slot);
          slot.worker.unref();
          resolve();
          dispatch();
          return;
        }
        if (reply.type === 'error' && reply.id === null) {
          reject(new AppError(reply.code as ErrorCode, reply.message));
          // Parked, not terminated (see close): it has loaded onnxruntime, and it holds no work.
          slot.worker.unref();
          return;
        }
        const task = slot.task;
        if (!task || task.id !== reply.id) return;
        slot.task = undefined;
        slot.worker.unref();
        if (reply.type === 'result') task.resolve(reply.data);
        else task.reject(new AppError(reply.code as ErrorCode, reply.message));
        dispatch();
      });
      slot.worker.on('error', (err) => {
        if (!ready) reject(new AppError('E_INTERNAL', `embedder pool: a worker failed to start: ${err.message}`, { cause: err }));
      });
      slot.worker.on('exit', (code) => {
        const at = slots.indexOf(slot);
        if (at >= 0) slots.splice(at, 1);
        const task = slot.task;
        slot.task = undefined;
        if (task) task.reject(new AppError('E_INTERNAL', `embedder pool: a worker exited (code ${code}) while embedding`));
        if (!ready) reject(new AppError('E_INTERNAL', `embedder pool: a worker exited (code ${code}) before loading the model`));
        // A worker lost after start-up is replaced, so one crash does not shrink the pool for good.
        else if (!closing) start().then(dispatch, () => undefined);
        else settleIfIdle();
      });
    });

  // Checked here first: a worker loads onnxruntime before it can look, and ending that thread
  // again is what sometimes aborts the process (see close).
  const check = await checkModelFiles(options.modelDir, options.modelId);
  if (!check.ok) throw modelNotUsable(options.modelId, check);
  try {
    await Promise.all(Array.from({ length: size }, start));
  } catch (err) {
    closing = true;
    for (const slot of slots.splice(0)) slot.worker.unref();
    throw err;
  }
  const { embedderId, dimension } = info as { embedderId: string; dimension: number };

  const run = (kind: Task['kind'], texts: string[]): Promise<Float32Array> => {
    if (closing) return Promise.reject(new AppError('E_INTERNAL', 'embedder pool: closed'));
    return new Promise<Float32Array>((resolve, reject) => {
      (kind === 'query' ? queries : documents).push({ id: nextId++, kind, texts, resolve, reject });
      dispatch();
    });
  };
  const rows = (data: Float32Array): Float32Array[] =>
    Array.from({ length: data.length / dimension }, (_, i) => data.slice(i * dimension, (i + 1) * dimension));

  /** Stops giving work; resolves once no worker is mid-pass (see close). */
  async function closeOnce(): Promise<void> {
    closing = true;
    for (const task of [...queries.splice(0), ...documents.splice(0)]) task.reject(new AppError('E_INTERNAL', 'embedder pool: closed'));
    // Resolves once the forward passes under way have finished: a process that exits while a
    // worker is inside one aborts (onnxruntime 1.14: "terminate called after throwing an
    // instance of 'Napi::Error'", 2 times in 6), so whoever exits after close() exits cleanly.
    await new Promise<void>((resolve) => {
      idle = resolve;
      settleIfIdle();
    });
    // Parked, not terminated: ending a thread that has loaded onnxruntime 1.14 sometimes aborts
    // the whole process ("free(): invalid pointer", seen about one time in four when a second
    // pool followed the first). An idle, unref'd worker costs its memory only, and ends with
    // the process; no more work reaches it once `closing` is set.
    for (const slot of slots.splice(0)) slot.worker.unref();
  }

  return {
    id: embedderId,
    dimension,
    size,
    async embedQuery(text: string): Promise<Float32Array> {
      const data = await run('query', [text]);
      return data.subarray(0, dimension);
    },
    async embedDocuments(texts: string[]): Promise<Float32Array[]> {
      // The same length order and batch boundaries as the in-thread embedder, cut into chunks of
      // whole batches, so each text shares a forward pass with the same neighbours either way.
      const order = texts.map((_, i) => i).sort((a, b) => (texts[a] ?? '').length - (texts[b] ?? '').length);
      const result = new Array<Float32Array>(texts.length);
      const parts: Promise<void>[] = [];
      for (let start = 0; start < order.length; start += chunkSize) {
        const indices = order.slice(start, start + chunkSize);
        parts.push(
          run('documents', indices.map((i) => texts[i] ?? '')).then((data) => {
            rows(data).forEach((v, k) => {
              result[indices[k] as number] = v;
            });
          }),
        );
      }
      await Promise.all(parts);
      return result;
    },
    close(): Promise<void> {
      // Every caller waits for the same end (a second close must not replace the first's waiter).
      closed ??= closeOnce();
      return closed;
    },
  };
}
