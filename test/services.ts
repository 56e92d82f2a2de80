/**
 * The real parts tests share: config, embedder and the QA service over the index that
 * test/global-setup.ts built from the shipped corpus.
 */
import { inject } from 'vitest';
import { createQaService, DEFAULT_THRESHOLD, type QaService } from '../src/qa/service.js';
import { loadConfig, type Config } from '../src/config.js';
import { createEmbedder, type Embedder } from '../src/embed/embedder.js';
import { allChunkIds, type IndexContext } from '../src/retrieve/context.js';
import { createFileStore } from '../src/store/file-store.js';
import type { Chunk, ParsedDocument } from '../src/domain/types.js';
import type { IndexSnapshot } from '../src/store/index-store.js';

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
    const service = await createQaService(await openSnapshot(config.indexDir, embedder), embedder, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD });
    return { config, embedder, service };
  })();
  return shared;
}

/** A snapshot of the published generation of the file index in `indexDir`, read through the file store. */
export function openSnapshot(indexDir: string, embedder: Pick<Embedder, 'id' | 'dimension'>): Promise<IndexSnapshot> {
  return createFileStore({ indexDir, embeddingModel: embedder.id, dimension: embedder.dimension }).snapshot();
}

/** Every chunk of a service's index, in corpus order (read through its snapshot). */
export async function allChunks(index: IndexContext): Promise<Chunk[]> {
  return (await index.snapshot.getChunks(await allChunkIds(index))).filter((c): c is Chunk => c !== undefined);
}

/** Every report of the index with its text, by id, read through the store once (the context holds no text). */
export async function allReports(index: IndexContext): Promise<Map<string, ParsedDocument>> {
  const docs = await index.snapshot.getDocuments([...index.documents.keys()]);
  return new Map(docs.flatMap((d) => (d ? [[d.meta.docId, d] as const] : [])));
}
