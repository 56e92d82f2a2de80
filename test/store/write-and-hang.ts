/**
 * Child process of the PostgreSQL store's crash test: begins a generation, writes documents and
 * some chunks of the test index, says so, and hangs until it is killed (kill -9 in the test).
 * Usage: tsx test/store/write-and-hang.ts <DATABASE_URL> <index dir> <generation name>
 */
import { loadIndex, readManifest } from '../../src/index/store.js';
import { tokensFromPostings } from '../../src/store/import.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';

const [url, indexDir, name] = process.argv.slice(2) as [string, string, string];
const manifest = readManifest(indexDir)!;
const index = loadIndex(indexDir, { embeddingModel: manifest.embeddingModel, dimension: manifest.dimension });
const store = createPostgresStore({ connectionString: url, embeddingModel: manifest.embeddingModel, dimension: manifest.dimension });
const writer = await store.beginGeneration({ id: name, embeddingModel: manifest.embeddingModel, dimension: manifest.dimension, pipelineVersion: manifest.pipelineVersion });
await writer.writeDocuments(index.documents);
const tokens = tokensFromPostings(index);
await writer.writeChunks(
  index.chunks.slice(0, 20).map((chunk, row) => ({
    chunk,
    vector: index.embeddings[row]!,
    sentenceVectors: index.sentenceEmbeddings.slice(index.sentenceRows[row]!, index.sentenceRows[row]! + chunk.sentences.length),
    tokens: tokens[row]!,
  })),
);
process.stdout.write('written, hanging\n');
setInterval(() => {}, 60_000);
