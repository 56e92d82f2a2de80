/** The index store contract against the file store, over a copy of the real test index. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIndex } from '../../src/index/store.js';
import { createFileStore } from '../../src/store/file-store.js';
import { tokensFromPostings } from '../../src/store/import.js';
import { testIndexDir } from '../services.js';
import { describeIndexStore, loadReference, publishedFolder } from './contract.js';

describeIndexStore('file', async () => {
  const ref = await loadReference();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-store-'));
  const source = testIndexDir();
  fs.cpSync(path.join(source, publishedFolder(source)), path.join(dir, publishedFolder(source)), { recursive: true });
  fs.copyFileSync(path.join(source, 'CURRENT'), path.join(dir, 'CURRENT'));
  return {
    async open() {
      return createFileStore({ indexDir: dir, embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension });
    },
    async damage() {
      // Same length, one byte changed: only the manifest's checksum can tell.
      const file = path.join(dir, publishedFolder(dir), 'chunks.json');
      const bytes = fs.readFileSync(file);
      const at = bytes.indexOf('"text":"') + 8;
      bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
      fs.writeFileSync(file, bytes);
    },
    async dispose() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('the file store writer', () => {
  it('publishes the indicator table with the sentence annotations, as ingest stores them', async () => {
    const ref = await loadReference();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'file-store-indicators-'));
    try {
      const store = createFileStore({ indexDir: dir, embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension });
      const { manifest } = ref.index;
      const writer = await store.beginGeneration({ id: 'gen-indicators-001', embeddingModel: manifest.embeddingModel, dimension: manifest.dimension, pipelineVersion: manifest.pipelineVersion });
      await writer.writeDocuments(ref.index.documents);
      const tokens = tokensFromPostings(ref.index);
      await writer.writeChunks(
        ref.index.chunks.map((chunk, row) => {
          const first = ref.index.sentenceRows[row]!;
          return { chunk, vector: ref.index.embeddings[row]!, sentenceVectors: ref.index.sentenceEmbeddings.slice(first, first + chunk.sentences.length), tokens: tokens[row]! };
        }),
      );
      await writer.writeLexicon(ref.index.lexicon);
      await writer.publish();
      await store.close();
      const published = loadIndex(dir, { embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension });
      expect(published.indicators.length).toBeGreaterThanOrEqual(25);
      expect(published.indicators).toEqual(ref.index.indicators);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
