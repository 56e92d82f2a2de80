/**
 * Runs once before the suites: fetches the real embedding model if needed and builds the real
 * index from the shipped corpus into a scratch folder, which suites open read-only.
 */
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config.js';
import { createEmbedder } from '../src/embed/embedder.js';
import { ensureModel } from '../src/embed/model-fetch.js';
import { ingestCorpus } from '../src/index/build.js';

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
  // Incremental: unchanged corpus and code reuse the previous run's embeddings.
  await ingestCorpus({ corpusDir: config.corpusDir, indexDir: TEST_INDEX_DIR, embedder });
  project.provide('testIndexDir', TEST_INDEX_DIR);
}

declare module 'vitest' {
  export interface ProvidedContext {
    testIndexDir: string;
  }
}
