/**
 * The index on disk. Each build is written into its own generation folder beside the live one,
 * every file through a temporary name, fsync and rename, the manifest last; then the one-line
 * CURRENT pointer is replaced by rename. A crash at any point leaves the previous generation live.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import type { Chunk, ParsedDocument } from '../types.js';
import type { KeywordIndexData } from './lexical.js';
import { readVectorIndex, type VectorIndex } from './vector.js';

/** Bumped whenever the files' layout or meaning changes; older indexes must be rebuilt. */
export const INDEX_FORMAT_VERSION = 2;

export interface FileEntry {
  /** sha256 of the report's bytes, plus its sidecar's when it has one. */
  hash: string;
  docId: string;
  chunks: number;
}

export interface Manifest {
  formatVersion: number;
  /** Name of the generation; changes with every build, so caches can key on it. */
  indexVersion: string;
  createdAt: string;
  embeddingModel: string;
  dimension: number;
  /** Identifies the cleaning/structure/chunking code; a change re-processes every file. */
  pipelineVersion: string;
  documents: number;
  chunks: number;
  files: Record<string, FileEntry>;
}

/** Everything a generation holds, in memory. */
export interface IndexData {
  manifest: Manifest;
  documents: ParsedDocument[];
  chunks: Chunk[];
  /** Row i is the embedding of chunks[i]. */
  embeddings: Float32Array[];
  /** One row per sentence, in chunk order then sentence order (see Chunk.sentences). */
  sentenceEmbeddings: Float32Array[];
  keywords: KeywordIndexData;
  /** Corpus terms added to the tokenizer's dictionary. */
  lexicon: string[];
}

export interface LoadedIndex extends IndexData {
  vectors: VectorIndex;
  /** Row of each chunk's first sentence in sentenceEmbeddings. */
  sentenceRows: number[];
}

/** Where each chunk's sentences start among the sentence rows. */
export function sentenceRowsOf(chunks: readonly Chunk[]): number[] {
  const rows: number[] = [];
  let next = 0;
  for (const chunk of chunks) {
    rows.push(next);
    next += chunk.sentences.length;
  }
  return rows;
}

const CURRENT = 'CURRENT';

function writeFileDurably(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function encodeEmbeddings(rows: readonly Float32Array[], dimension: number): Uint8Array {
  const all = new Float32Array(rows.length * dimension);
  rows.forEach((row, i) => all.set(row, i * dimension));
  return new Uint8Array(all.buffer);
}

function decodeEmbeddings(bytes: Buffer, dimension: number, count: number, name: string): Float32Array[] {
  if (bytes.byteLength !== count * dimension * 4) {
    throw new AppError('E_INDEX_CORRUPT', `index: ${name} has ${bytes.byteLength} bytes, expected ${count * dimension * 4}; run \`npm run ingest -- --full\``, { status: 503 });
  }
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  return Array.from({ length: count }, (_, i) => all.subarray(i * dimension, (i + 1) * dimension));
}

/** Writes a new generation and makes it live. Returns its name. */
export function writeIndex(indexDir: string, data: IndexData, vectors: VectorIndex): string {
  fs.mkdirSync(indexDir, { recursive: true });
  const generation = data.manifest.indexVersion;
  const dir = path.join(indexDir, generation);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  writeFileDurably(path.join(dir, 'documents.json'), JSON.stringify(data.documents));
  writeFileDurably(path.join(dir, 'chunks.json'), JSON.stringify(data.chunks));
  writeFileDurably(path.join(dir, 'embeddings.f32'), encodeEmbeddings(data.embeddings, data.manifest.dimension));
  writeFileDurably(path.join(dir, 'sentence-embeddings.f32'), encodeEmbeddings(data.sentenceEmbeddings, data.manifest.dimension));
  writeFileDurably(path.join(dir, 'keywords.json'), JSON.stringify(data.keywords));
  writeFileDurably(path.join(dir, 'lexicon.json'), JSON.stringify(data.lexicon));
  // hnswlib writes straight to its target, so give it a temporary name and make that durable ourselves.
  const graphTmp = path.join(dir, 'vectors.hnsw.tmp');
  vectors.save(graphTmp);
  const fd = fs.openSync(graphTmp, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(graphTmp, path.join(dir, 'vectors.hnsw'));
  writeFileDurably(path.join(dir, 'manifest.json'), JSON.stringify(data.manifest, null, 2));
  fsyncDir(dir);
  writeFileDurably(path.join(indexDir, CURRENT), `${generation}\n`);
  fsyncDir(indexDir);
  removeStaleGenerations(indexDir, generation);
  return generation;
}

/** Deletes every generation folder but the live one (left behind by earlier builds or crashes). */
function removeStaleGenerations(indexDir: string, live: string): void {
  for (const name of fs.readdirSync(indexDir)) {
    if (name.startsWith('gen-') && name !== live) fs.rmSync(path.join(indexDir, name), { recursive: true, force: true });
  }
}

/** Name of the live generation, or undefined when no index was ever completed. */
export function currentGeneration(indexDir: string): string | undefined {
  try {
    const name = fs.readFileSync(path.join(indexDir, CURRENT), 'utf8').trim();
    return /^gen-[\w-]+$/.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

export interface Expectations {
  embeddingModel: string;
  dimension: number;
}

function readJson<T>(dir: string, name: string): T {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as T;
  } catch (cause) {
    throw new AppError('E_INDEX_CORRUPT', `index: ${name} is missing or unreadable; run \`npm run ingest\` to rebuild`, { cause });
  }
}

/** Reads the manifest of the live generation without loading the rest. */
export function readManifest(indexDir: string): Manifest | undefined {
  const generation = currentGeneration(indexDir);
  if (!generation) return undefined;
  return readJson<Manifest>(path.join(indexDir, generation), 'manifest.json');
}

/**
 * Loads the live generation, checking it was built by this code for this model.
 * Throws E_INDEX_MISSING, E_INDEX_MISMATCH or E_INDEX_CORRUPT with what to run.
 */
export function loadIndex(indexDir: string, expect: Expectations): LoadedIndex {
  const generation = currentGeneration(indexDir);
  if (!generation) {
    throw new AppError('E_INDEX_MISSING', `index: no index in ${path.basename(indexDir)}/; run \`npm run ingest\``, { status: 503 });
  }
  const dir = path.join(indexDir, generation);
  const manifest = readJson<Manifest>(dir, 'manifest.json');
  if (manifest.formatVersion !== INDEX_FORMAT_VERSION) {
    throw new AppError('E_INDEX_MISMATCH', `index: format version ${manifest.formatVersion}, this code reads ${INDEX_FORMAT_VERSION}; run \`npm run ingest -- --full\``, { status: 503 });
  }
  if (manifest.embeddingModel !== expect.embeddingModel || manifest.dimension !== expect.dimension) {
    throw new AppError(
      'E_INDEX_MISMATCH',
      `index: built with ${manifest.embeddingModel} (${manifest.dimension}d) but EMBEDDING_MODEL is ${expect.embeddingModel} (${expect.dimension}d); run \`npm run ingest -- --full\``,
      { status: 503 },
    );
  }
  const documents = readJson<ParsedDocument[]>(dir, 'documents.json');
  const chunks = readJson<Chunk[]>(dir, 'chunks.json');
  if (chunks.length !== manifest.chunks || documents.length !== manifest.documents) {
    throw new AppError('E_INDEX_CORRUPT', 'index: chunk or document count differs from the manifest; run `npm run ingest -- --full`', { status: 503 });
  }
  const readEmbeddings = (name: string, count: number): Float32Array[] => {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.join(dir, name));
    } catch (cause) {
      throw new AppError('E_INDEX_CORRUPT', `index: ${name} is missing; run \`npm run ingest -- --full\``, { cause, status: 503 });
    }
    return decodeEmbeddings(bytes, manifest.dimension, count, name);
  };
  const embeddings = readEmbeddings('embeddings.f32', chunks.length);
  const sentenceRows = sentenceRowsOf(chunks);
  const sentenceCount = chunks.reduce((n, c) => n + c.sentences.length, 0);
  const sentenceEmbeddings = readEmbeddings('sentence-embeddings.f32', sentenceCount);
  let vectors: VectorIndex;
  try {
    vectors = readVectorIndex(path.join(dir, 'vectors.hnsw'), manifest.dimension, chunks.length);
  } catch (cause) {
    throw new AppError('E_INDEX_CORRUPT', 'index: vectors.hnsw is missing or damaged; run `npm run ingest -- --full`', { cause, status: 503 });
  }
  return {
    manifest,
    documents,
    chunks,
    embeddings,
    sentenceEmbeddings,
    sentenceRows,
    keywords: readJson<KeywordIndexData>(dir, 'keywords.json'),
    lexicon: readJson<string[]>(dir, 'lexicon.json'),
    vectors,
  };
}
