/**
 * Worker of `npm run bench`'s embedding ceiling: one raw onnxruntime session (one intra-op thread,
 * nothing of this project's pipeline but its tokenizer) that tokenizes and runs the texts it is sent, so the bench
 * can say how fast N such sessions embed the questions with nothing else going on.
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { lowerAscii, MAX_MODEL_TOKENS } from '../embed/embedder.js';
import { modelPathOf, ONNX_MODEL_FILE } from '../embed/model-files.js';
import { loadWordPiece } from '../embed/wordpiece.js';

const { modelDir, modelId } = workerData as { modelDir: string; modelId: string };
// The server's tokenization (ASCII lower-cased, wordpiece.ts), so the ceiling measures the same work.
const tokenizer = loadWordPiece(modelPathOf(modelDir, modelId));
const session = await ort.InferenceSession.create(path.join(modelPathOf(modelDir, modelId), ONNX_MODEL_FILE), { intraOpNumThreads: 1, interOpNumThreads: 1 });

parentPort!.on('message', async (texts: string[]) => {
  for (const text of texts) {
    const encoded: Record<string, { data: BigInt64Array; dims: number[] }> = { ...tokenizer.encode([lowerAscii(text)], MAX_MODEL_TOKENS) };
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) feeds[name] = new ort.Tensor('int64', encoded[name]!.data, encoded[name]!.dims);
    await session.run(feeds);
  }
  parentPort!.postMessage(texts.length);
});
parentPort!.postMessage('ready');
