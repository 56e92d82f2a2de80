/**
 * Entry point of the ingest child process started by src/index/ingest-runner.ts: waits for one
 * `start` message, fetches the model if needed, loads it, runs ingestCorpus (with the answer
 * layer's suggestion check, which is why this entry lives in cli/), publishes the new generation
 * into the PostgreSQL store when the message names one (here, so the caller's event loop stays
 * free and killing this process stops the publish too), reports progress and the summary (or the
 * error) over IPC, and exits. Not meant to be run by hand.
 */
import { suggestionDeriver } from '../qa/suggestions.js';
import { createEmbedder, type Embedder } from '../embed/embedder.js';
import { ensureModel } from '../embed/model-fetch.js';
import { isAppError } from '../errors.js';
import { ingestCorpus } from '../index/build.js';
import type { ChildMessage, IngestRunSummary, StartMessage } from '../index/ingest-runner.js';
import { checkPublishTarget, publishFileIndex } from '../store/import.js';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

// Stopping is cheap and safe outside the (synchronous) final write, the only place that touches
// the index folder: exit at once rather than finish the batch. While publishing into a database
// too: its pointer row is switched last, and the rows of a writer that died go with the next one.
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(143));
// The parent went away (crashed, killed): nobody wants the result.
process.on('disconnect', () => process.exit(1));

/**
 * onnxruntime-node runs inference synchronously on this thread, chained by promises only, so a
 * whole embedding call never lets the event loop run: a SIGTERM or an IPC message would wait for
 * it. This yields to the loop before every forward pass (one text each with the default batch
 * size of 1, which gives the very same vectors), so a stop request is seen within one pass.
 */
function responsive(embedder: Embedder, batchSize: number): Embedder {
  const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    ...embedder,
    async embedDocuments(texts) {
      if (batchSize > 1) {
        await yieldToLoop();
        return embedder.embedDocuments(texts);
      }
      const out: Float32Array[] = [];
      for (const text of texts) {
        await yieldToLoop();
        out.push(...(await embedder.embedDocuments([text])));
      }
      return out;
    },
  };
}

async function run(start: StartMessage): Promise<void> {
  const { model } = start;
  // A database that is down or not migrated fails the run now, not after the embedding.
  if (start.publish) await checkPublishTarget(start.publish);
  await ensureModel({
    modelDir: model.modelDir,
    modelId: model.modelId,
    hfEndpoint: model.hfEndpoint,
    mavenVersions: model.mavenVersions,
    // Byte counts of a download would flood the channel; the summary comes as the `done` step.
    onProgress: (e) => {
      if (e.loaded !== undefined) return;
      void send({ type: 'progress', event: { stage: 'model', done: 0, total: 0, message: e.message, ...(e.stage === 'fallback' ? { warning: true } : {}) } });
    },
  });
  void send({ type: 'progress', event: { stage: 'model', done: 0, total: 0, message: 'loading the model' } });
  const embedder = responsive(
    await createEmbedder({ modelDir: model.modelDir, modelId: model.modelId, batchSize: model.batchSize, queryInstruction: model.queryInstruction }),
    model.batchSize ?? 1,
  );
  const summary = await ingestCorpus({
    corpusDir: start.corpusDir,
    indexDir: start.indexDir,
    embedder,
    skipBad: start.skipBad,
    full: start.full,
    deriveFromIndex: suggestionDeriver(embedder, { defaultTopK: start.defaultTopK }),
    onProgress: (stage, done, total) => void send({ type: 'progress', event: { stage, done, total } }),
  });
  const done: IngestRunSummary = { ...summary };
  if (start.publish) {
    done.published = await publishFileIndex(start.indexDir, start.publish, {
      onProgress: (written, total) => void send({ type: 'progress', event: { stage: 'publish', done: written, total } }),
    });
  }
  await send({ type: 'done', summary: done });
}

process.once('message', (message: StartMessage) => {
  run(message).then(
    () => process.exit(0),
    async (err: unknown) => {
      await send({
        type: 'error',
        code: isAppError(err) ? err.code : 'E_INTERNAL',
        message: err instanceof Error ? err.message : String(err),
      });
      process.exit(1);
    },
  );
});
