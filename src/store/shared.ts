/**
 * Rules every index store implementation shares, so that they agree: which chunk passes the
 * filters, how a generation is checked before it is published, how generations are named, and
 * the ranking order of vector hits.
 */
import crypto from 'node:crypto';
import { AppError } from '../errors.js';
import type { Chunk, ParsedDocument } from '../types.js';
import type { ChunkRecord, StoreFilters } from './index-store.js';

/** Whether a chunk passes the filters (the SQL of the PostgreSQL store states the same rule). */
export function passesFilters(chunk: Pick<Chunk, 'town' | 'role' | 'years'>, filters: StoreFilters = {}): boolean {
  if (filters.towns && filters.towns.length > 0 && !filters.towns.includes(chunk.town)) return false;
  if (filters.role && chunk.role !== filters.role) return false;
  if (filters.year !== undefined && !chunk.years.includes(filters.year)) return false;
  return true;
}

/** Dot product: the cosine similarity of two unit vectors. */
export function dotProduct(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A fresh generation name, in the file store's `gen-<UTC time>-<random>` form (sortable by time). */
export function newGenerationId(): string {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').replace('T', 't').slice(0, 16);
  return `gen-${stamp}-${crypto.randomBytes(3).toString('hex')}`;
}

/** A generation name a store accepts (it becomes a folder name in the file store). */
export function checkGenerationId(id: string): string {
  if (!/^gen-[\w-]{1,100}$/.test(id)) throw new AppError('E_BAD_REQUEST', `store: generation name "${id}" is not of the form gen-…`);
  return id;
}

/**
 * Refuses a generation that is not whole: a chunk without its document, a duplicate id, a vector
 * of the wrong length, sentence vectors that do not match the chunk's sentences. Throws
 * E_INDEX_CORRUPT naming the first problem.
 */
export function checkGeneration(documents: readonly ParsedDocument[], records: readonly ChunkRecord[], dimension: number): void {
  const fail = (why: string): never => {
    throw new AppError('E_INDEX_CORRUPT', `store: generation refused: ${why}`);
  };
  const docIds = new Set<string>();
  for (const doc of documents) {
    if (docIds.has(doc.meta.docId)) fail(`document ${doc.meta.docId} written twice`);
    docIds.add(doc.meta.docId);
  }
  const chunkIds = new Set<string>();
  for (const { chunk, vector, sentenceVectors } of records) {
    if (chunkIds.has(chunk.id)) fail(`chunk ${chunk.id} written twice`);
    chunkIds.add(chunk.id);
    if (!docIds.has(chunk.docId)) fail(`chunk ${chunk.id} belongs to document ${chunk.docId}, which was not written`);
    if (vector.length !== dimension) fail(`chunk ${chunk.id} has a ${vector.length}-dimensional vector, expected ${dimension}`);
    if (sentenceVectors.length !== chunk.sentences.length) fail(`chunk ${chunk.id} has ${chunk.sentences.length} sentences but ${sentenceVectors.length} sentence vectors`);
    for (const v of sentenceVectors) if (v.length !== dimension) fail(`a sentence of chunk ${chunk.id} has a ${v.length}-dimensional vector, expected ${dimension}`);
  }
}
