/** Approximate nearest-neighbour search over passage embeddings with hnswlib (cosine space). */
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

/** Reads an index written by save(). */
export function readVectorIndex(file: string, dimension: number, size: number): VectorIndex {
  const index = new HierarchicalNSW('cosine', dimension);
  index.readIndexSync(file);
  if (index.getCurrentCount() !== size) {
    throw new Error(`vector index holds ${index.getCurrentCount()} vectors, expected ${size}`);
  }
  return wrap(index, size);
}
