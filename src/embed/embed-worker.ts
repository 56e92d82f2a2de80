/**
 * Entry of one embedding worker thread (see pool.ts): loads the model with one onnxruntime
 * intra-op thread and answers embedding requests from the pool, so inference never runs on the
 * serving thread's event loop.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createEmbedder, type EmbedderOptions } from './embedder.js';

/** What the pool sends: texts to embed as documents, or one query. */
export interface EmbedRequest {
  id: number;
  kind: 'query' | 'documents';
  texts: string[];
}

/** What the worker answers; vectors travel as one transferred buffer (rows of `dimension`). */
export type EmbedReply =
  | { type: 'ready'; embedderId: string; dimension: number }
  | { type: 'result'; id: number; data: Float32Array }
  | { type: 'error'; id: number | null; code: string; message: string };

const port = parentPort;
if (!port) throw new Error('embed-worker: must run as a worker thread');

const options = workerData as EmbedderOptions & { niceness?: number };

// Below the event loop: when the cores are all busy, the serving thread (probes, HTTP parsing,
// retrieval) is scheduled first and inference waits, instead of the other way round. Linux
// gives each thread its own nice value; onnxruntime with one intra-op thread runs on this one.
if (options.niceness) {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, Math.min(19, os.getPriority(tid) + options.niceness));
  } catch {
    // Not Linux, or not allowed: the worker runs at the process's priority.
  }
}
const post = (reply: EmbedReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);
const failure = (id: number | null, err: unknown): EmbedReply => ({
  type: 'error',
  id,
  code: (err as { code?: string }).code ?? 'E_INTERNAL',
  message: err instanceof Error ? err.message : String(err),
});

createEmbedder({ ...options, intraOpThreads: options.intraOpThreads ?? 1 }).then(
  (embedder) => {
    port.on('message', (request: EmbedRequest) => {
      const work = request.kind === 'query' ? embedder.embedQuery(request.texts[0] ?? '').then((v) => [v]) : embedder.embedDocuments(request.texts);
      work.then(
        (vectors) => {
          const data = new Float32Array(vectors.length * embedder.dimension);
          vectors.forEach((v, i) => data.set(v, i * embedder.dimension));
          post({ type: 'result', id: request.id, data }, [data.buffer as ArrayBuffer]);
        },
        (err: unknown) => post(failure(request.id, err)),
      );
    });
    post({ type: 'ready', embedderId: embedder.id, dimension: embedder.dimension });
  },
  (err: unknown) => {
    post(failure(null, err));
    // Stays parked (the pool unrefs it) rather than ending: a thread that has loaded onnxruntime
    // sometimes aborts the whole process as it ends (see the pool's close).
    port.on('message', () => undefined);
  },
);
