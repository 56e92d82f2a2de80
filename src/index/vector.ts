/** Approximate nearest-neighbour search over passage embeddings with hnswlib (cosine space). */
import fs from 'node:fs';
import hnswlib from 'hnswlib-node';
import type { ScoredIndex } from './lexical.js';

const { HierarchicalNSW } = hnswlib;

export interface VectorIndex {
  readonly size: number;
  /** Nearest passages to a unit query vector, best first, with cosine similarity as score. */
  search(query: Float32Array, k: number, accept?: (index: number) => boolean): ScoredIndex[];
  /** Writes the graph to a file (the caller makes the write atomic). */
  save(file: string): void;
}

/** Graph parameters: M links per node and construction breadth; generous for recall at this size. */
const M = 16;
const EF_CONSTRUCTION = 200;
const EF_SEARCH = 128;

function wrap(index: InstanceType<typeof HierarchicalNSW>, size: number): VectorIndex {
  return {
    size,
    search(query, k, accept) {
      const n = Math.min(k, size);
      if (n === 0) return [];
      index.setEf(Math.max(EF_SEARCH, n));
      const result = index.searchKnn(Array.from(query), n, accept);
      return result.neighbors.map((label, i) => ({ index: label, score: 1 - result.distances[i]! }));
    },
    save(file) {
      index.writeIndexSync(file);
    },
  };
}

/** Builds an index over vectors; the label of a vector is its position. */
export function buildVectorIndex(vectors: readonly Float32Array[], dimension: number): VectorIndex {
  const index = new HierarchicalNSW('cosine', dimension);
  index.initIndex({ maxElements: Math.max(1, vectors.length), m: M, efConstruction: EF_CONSTRUCTION, randomSeed: 100 });
  vectors.forEach((v, i) => index.addPoint(Array.from(v), i));
  return wrap(index, vectors.length);
}

/** Size of hnswlib's file header: six size_t, two 32-bit ints, three size_t, a double, a size_t. */
const HEADER_BYTES = 96;

/**
 * Checks a graph file's structure before hnswlib reads it. hnswlib trusts its header: a damaged
 * one (same length, other bytes) can make it divide by zero or follow wild pointers and kill the
 * process with a native signal, which no try/catch can turn into a message. This walks the whole
 * file (header, every element's links and label, the upper-level link lists) and throws a plain
 * Error naming the first inconsistency. Links pointing outside the graph would crash searches.
 */
export function validateVectorFile(bytes: Uint8Array, dimension: number, size: number): void {
  const fail = (why: string): never => {
    throw new Error(`vector index file is damaged: ${why}`);
  };
  if (bytes.byteLength < HEADER_BYTES) fail(`${bytes.byteLength} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number): number => {
    const value = view.getBigUint64(at, true);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(value);
  };
  const offsetLevel0 = u64(0);
  const maxElements = u64(8);
  const count = u64(16);
  const sizePerElement = u64(24);
  const labelOffset = u64(32);
  const offsetData = u64(40);
  const maxLevel = view.getInt32(48, true);
  const enterPoint = view.getUint32(52, true);
  const maxM = u64(56);
  const maxM0 = u64(64);
  const m = u64(72);
  const mult = view.getFloat64(80, true);
  const efConstruction = u64(88);

  if (count !== size) fail(`holds ${count} vectors, expected ${size}`);
  if (offsetLevel0 !== 0) fail('bad level-0 offset');
  if (!(maxElements >= count && maxElements <= Math.max(1, count) * 4 + 1024)) fail('bad capacity');
  if (!(m >= 2 && m <= 1024 && maxM === m && maxM0 === 2 * m)) fail('bad link counts');
  if (offsetData !== maxM0 * 4 + 4) fail('bad data offset');
  if (labelOffset !== offsetData + dimension * 4) fail(`vectors are not ${dimension}-dimensional`);
  if (sizePerElement !== labelOffset + 8) fail('bad element size');
  if (!(Number.isFinite(mult) && mult > 0) || !(efConstruction >= 1 && efConstruction <= 1_000_000)) fail('bad build parameters');
  if (!(maxLevel >= 0 && maxLevel < 64)) fail('bad level count');
  if (count > 0 && enterPoint >= count) fail('entry point outside the graph');

  const level0Bytes = count * sizePerElement;
  if (HEADER_BYTES + level0Bytes > bytes.byteLength) fail('truncated element data');
  const checkLinks = (at: number, max: number): void => {
    const n = view.getUint16(at, true);
    if (n > max) fail('a node has more links than allowed');
    for (let k = 0; k < n; k++) if (view.getUint32(at + 4 + 4 * k, true) >= count) fail('a link points outside the graph');
  };
  for (let i = 0; i < count; i++) {
    const base = HEADER_BYTES + i * sizePerElement;
    checkLinks(base, maxM0);
    // Labels are chunk rows (see buildVectorIndex).
    if (u64(base + labelOffset) >= count) fail('a label points outside the index');
  }
  const linksPerLevel = maxM * 4 + 4;
  let at = HEADER_BYTES + level0Bytes;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.byteLength) fail('truncated link lists');
    const listBytes = view.getUint32(at, true);
    at += 4;
    if (listBytes % linksPerLevel !== 0 || listBytes / linksPerLevel > maxLevel) fail('bad link list size');
    if (at + listBytes > bytes.byteLength) fail('truncated link lists');
    for (let level = 0; level < listBytes / linksPerLevel; level++) checkLinks(at + level * linksPerLevel, maxM);
    at += listBytes;
  }
  if (at !== bytes.byteLength) fail(`${bytes.byteLength - at} unexpected trailing bytes`);
}

/** Reads an index written by save(), after checking its structure (see validateVectorFile); `bytes`: the file's, when the caller read it already. */
export function readVectorIndex(file: string, dimension: number, size: number, bytes?: Uint8Array): VectorIndex {
  validateVectorFile(bytes ?? fs.readFileSync(file), dimension, size);
  const index = new HierarchicalNSW('cosine', dimension);
  index.readIndexSync(file);
  return opened(index, size);
}

/**
 * readVectorIndex for a serving process: the structure check runs here (under a millisecond on
 * the shipped corpus; `onCheck` gets its time), then hnswlib reads the file in its own thread.
 */
export async function readVectorIndexAsync(file: string, dimension: number, size: number, bytes?: Uint8Array, onCheck?: (ms: number) => void): Promise<VectorIndex> {
  const data = bytes ?? (await fs.promises.readFile(file));
  const started = performance.now();
  validateVectorFile(data, dimension, size);
  onCheck?.(performance.now() - started);
  const index = new HierarchicalNSW('cosine', dimension);
  await index.readIndex(file);
  return opened(index, size);
}

function opened(index: InstanceType<typeof HierarchicalNSW>, size: number): VectorIndex {
  if (index.getCurrentCount() !== size) {
    throw new Error(`vector index holds ${index.getCurrentCount()} vectors, expected ${size}`);
  }
  return wrap(index, size);
}
