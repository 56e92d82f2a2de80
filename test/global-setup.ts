/**
 * Runs once before the suites: fetches the real embedding model if needed and builds the real
 * index from the shipped corpus into a scratch folder, which suites open read-only.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config.js';
import { createEmbedder } from '../src/embed/embedder.js';
import { ensureModel } from '../src/embed/model-fetch.js';
import { isAppError } from '../src/errors.js';
import { ingestCorpus } from '../src/index/build.js';
import { suggestionDeriver } from '../src/qa/suggestions.js';

// TEST_INDEX_DIR lets several checkouts or parallel runs on one machine keep separate index folders.
export const TEST_INDEX_DIR = path.resolve(process.env.TEST_INDEX_DIR ?? 'node_modules/.cache/test-index');

export default async function setup(project: TestProject): Promise<void> {
  const config = loadConfig({ ...process.env, INDEX_DIR: TEST_INDEX_DIR });
  await ensureModel({ modelDir: config.modelDir, modelId: config.embeddingModel, hfEndpoint: config.hfEndpoint, mavenVersions: config.mavenVersions });
  const embedder = await createEmbedder({
    modelDir: config.modelDir,
    modelId: config.embeddingModel,
    batchSize: config.embedBatchSize,
    queryInstruction: config.queryInstruction,
  });
  // Incremental: unchanged corpus and code reuse the previous run's embeddings. Another run on
  // this machine (`npm run test:load` beside `npm test`) may be writing the same folder: wait for
  // its write lock to go, then run again (it then reuses everything that run embedded).
  for (let attempt = 1; ; attempt++) {
    try {
      // With the suggestion check, as the entry points run it (src/cli/runtime.ts).
      await ingestCorpus({ corpusDir: config.corpusDir, indexDir: TEST_INDEX_DIR, embedder, deriveFromIndex: suggestionDeriver(embedder, { defaultTopK: config.defaultTopK }) });
      break;
    } catch (err) {
      if (!(isAppError(err) && err.code === 'E_BUSY') || attempt >= 5) throw err;
      await lockReleased(path.join(TEST_INDEX_DIR, '.write.lock'), 120_000);
    }
  }
  project.provide('testIndexDir', TEST_INDEX_DIR);
}

/** Resolves once `lock` no longer exists (polled); rejects after `timeoutMs`. */
async function lockReleased(lock: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (fs.existsSync(lock)) {
    if (Date.now() > until) throw new Error(`global setup: ${lock} still held after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    testIndexDir: string;
  }
}
