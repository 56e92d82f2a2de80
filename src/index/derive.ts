/**
 * What ingest computes beside the chunks and vectors, so that loading an index only reads: each
 * deriver turns the finished build (documents, chunks, sentence vectors and annotations) into
 * records of its own kind, stored with the generation and served by IndexSnapshot.getDerived.
 * A deriver runs for every build, reused files too, so a change of its rules needs no re-embedding.
 */
import type { SentenceAnnotation } from '../annotate/sentence.js';
import type { Embedder } from '../embed/embedder.js';
import type { DerivedRecord } from '../store/index-store.js';
import type { Tokenizer } from '../text/tokenize.js';
import type { Chunk, ParsedDocument } from '../domain/types.js';

/** The finished build a deriver reads (plain data, in ingest order). */
export interface DeriveInput {
  documents: readonly ParsedDocument[];
  chunks: readonly Chunk[];
  /** Embedding of each chunk's sentences, per chunk, in sentence order. */
  sentenceVectors: ReadonlyArray<readonly Float32Array[]>;
  /** Annotation of each chunk's sentences, per chunk, in sentence order. */
  sentenceAnnotations: ReadonlyArray<readonly SentenceAnnotation[]>;
  /** The tokenizer keyword search uses (with the corpus lexicon). */
  tokenizer: Tokenizer;
  /** The build's embedder, for derivers that compare with fixed phrases. */
  embedder: Embedder;
}

export type Deriver = (input: DeriveInput) => Promise<DerivedRecord[]> | DerivedRecord[];

/** Every deriver, in the order they run. */
const DERIVERS: Deriver[] = [];

/** All derived records of a build; a (kind, key) produced twice is a bug and refused. */
export async function deriveRecords(input: DeriveInput): Promise<DerivedRecord[]> {
  const records: DerivedRecord[] = [];
  const seen = new Set<string>();
  for (const derive of DERIVERS) {
    for (const record of await derive(input)) {
      const id = JSON.stringify([record.kind, record.key]);
      if (seen.has(id)) throw new Error(`derive: record ${id} produced twice`);
      seen.add(id);
      records.push(record);
    }
  }
  return records;
}
