/**
 * The real parts tests share: config, embedder and the QA service over the index that
 * test/global-setup.ts built from the shipped corpus.
 */
import { inject } from 'vitest';
import { createQaService, DEFAULT_THRESHOLD, type QaService } from '../src/qa/service.js';
import { loadConfig, type Config } from '../src/config.js';
import { createEmbedder, type Embedder } from '../src/embed/embedder.js';
import { loadIndex } from '../src/index/store.js';

let shared: Promise<{ config: Config; embedder: Embedder; service: QaService }> | undefined;

export function testIndexDir(): string {
  return inject('testIndexDir');
}

/** Opens (once per test file) the service over the test index. */
export function openTestService(): Promise<{ config: Config; embedder: Embedder; service: QaService }> {
  shared ??= (async () => {
    const config = loadConfig({ ...process.env, INDEX_DIR: testIndexDir() });
    const embedder = await createEmbedder({
      modelDir: config.modelDir,
      modelId: config.embeddingModel,
      batchSize: config.embedBatchSize,
      queryInstruction: config.queryInstruction,
    });
    const index = loadIndex(config.indexDir, { embeddingModel: embedder.id, dimension: embedder.dimension });
    const service = createQaService(index, embedder, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD });
    return { config, embedder, service };
  })();
  return shared;
}
