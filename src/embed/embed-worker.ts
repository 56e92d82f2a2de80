/**
 * Entry of one embedding worker thread (see pool.ts): loads the model with one onnxruntime
 * intra-op thread and answers embedding requests from the pool, so inference never runs on the
 * serving thread's event loop.
 */
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

const options = workerData as EmbedderOptions;
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
  (err: unknown) => post(failure(null, err)),
);
