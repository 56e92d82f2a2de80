/**
 * The index store: one async interface for everything the query side reads from a built index,
 * and for the writer that builds one. Records are addressed by chunk id, never by row number, so
 * an implementation may keep them in memory (the files of src/index/), or in a database server
 * (PostgreSQL + pgvector). Every read goes through a snapshot pinned to one published generation:
 * a reader sees the old generation or the new one, never a mix of the two.
 *
 * The query side (src/retrieve/context.ts and everything above it) reads only this interface.
 */
import type { SentenceAnnotation } from '../annotate/sentence.js';
import type { Embedder } from '../embed/embedder.js';
import type { KeywordIndexData } from '../index/lexical.js';
import type { Tokenizer } from '../text/tokenize.js';
import type { Chunk, DocumentMeta, ParsedDocument, Role } from '../domain/types.js';

/**
 * Restrictions a store applies itself, before ranking (not after: a filtered search returns up to
 * k hits that pass the filter). Every field is optional; an empty object restricts nothing.
 */
export interface StoreFilters {
  /** Only chunks of these towns (Chunk.town); empty or absent: every town. */
  towns?: readonly string[];
  /** Only chunks whose section covers this calendar year (Chunk.years). */
  year?: number;
  /** Only chunks of sections with this role (Chunk.role). */
  role?: Role;
}

/** A chunk found by a search. */
export interface ChunkHit {
  /** Chunk.id of the hit. */
  chunkId: string;
  /** Cosine similarity for vector search, BM25 score for keyword search. Higher is better. */
  score: number;
}

/** A sentence found by a vector search: sentence `sentence` of chunk `chunkId` (Chunk.sentences). */
export interface SentenceHit {
  /** Chunk.id of the chunk holding the sentence. */
  chunkId: string;
  /** Position of the sentence within its chunk's `sentences`. */
  sentence: number;
  /** Cosine similarity with the query vector. */
  score: number;
}

/** Corpus statistics for weighting query terms the way keyword search does. */
export interface TermStats {
  /** Chunks in the generation. */
  chunkCount: number;
  /** Mean token count of a chunk. */
  averageLength: number;
  /**
   * Per asked term: how many chunks hold it and its BM25 idf (absent terms have df 0); with
   * TermStatsOptions.byTown, also how many chunks of each town hold it (towns without it absent).
   */
  terms: Record<string, TermStat>;
}

/** One term's statistics (see TermStats). */
export interface TermStat {
  df: number;
  idf: number;
  /** Chunks holding the term, per town (Chunk.town); only when asked for (TermStatsOptions.byTown). */
  towns?: Record<string, number>;
}

/** Options of IndexSnapshot.termStats. */
export interface TermStatsOptions {
  /**
   * Also count the chunks holding each term per town: "does the asked town's report use this
   * word at all" (the extractive composer's not-mentioned check). Default false.
   */
  byTown?: boolean;
  /**
   * With byTown: count only these towns (the others are absent). A common word is in thousands
   * of chunks of a large corpus; the composer only asks about the towns of the question.
   */
  towns?: readonly string[];
}

/** What ingest recorded of one corpus file: for incremental ingest and the admin's report list. */
export interface FileRecord {
  /** sha256 of the report's bytes, plus its sidecar's when it has one. */
  hash: string;
  docId: string;
  chunks: number;
}

/** Describes one generation: a complete, immutable build of the index. */
export interface GenerationInfo {
  /** Unique name of the generation (the file store's `gen-…` folder name); caches key on it. */
  id: string;
  /** When the writer began it, ISO 8601. */
  createdAt: string;
  /** INDEX_FORMAT_VERSION of the code that wrote it; a reader refuses another. */
  formatVersion: number;
  /** Embedder id (model and pooling) its vectors come from; a reader refuses another. */
  embeddingModel: string;
  /** Length of every vector of the generation. */
  dimension: number;
  /** Identifies the corpus-stage code that produced the chunks (see PIPELINE_VERSION). */
  pipelineVersion: string;
  /** Documents in the generation. */
  documents: number;
  /** Chunks in the generation. */
  chunks: number;
  /** Sentences (sentence vectors) in the generation. */
  sentences: number;
  /** Per corpus file (path relative to the corpus folder): what ingest recorded of it. */
  files: Record<string, FileRecord>;
}

/**
 * A derived record, computed at ingest and stored with the generation: a JSON value under a kind
 * and a key, so that new kinds ('commitments', 'suggestions', 'indicators',
 * 'sentence-annotations', …) need no schema change. Keys are unique within a kind.
 */
export interface DerivedRecord<T = unknown> {
  /** What the record is, e.g. 'commitments'. */
  kind: string;
  /** Its id within the kind (a commitment id, a chunk id, a town …). */
  key: string;
  /** Any JSON value (objects, arrays, strings, numbers, booleans, null). */
  value: T;
}

/**
 * The finished build a deriver reads (plain data, in ingest order): ingest (src/index/derive.ts)
 * hands it to every deriver, whose records are written with the generation.
 */
export interface DeriveInput {
  documents: readonly ParsedDocument[];
  chunks: readonly Chunk[];
  /** Embedding of each chunk's sentences, per chunk, in sentence order. */
  sentenceVectors: ReadonlyArray<readonly Float32Array[]>;
  /** Annotation of each chunk's sentences, per chunk, in sentence order. */
  sentenceAnnotations: ReadonlyArray<readonly SentenceAnnotation[]>;
  /** The tokenizer keyword search uses (with the corpus lexicon). */
  tokenizer: Tokenizer;
  /** The corpus terms in the tokenizer's dictionary, and the BM25 index over the chunks (term weights). */
  lexicon: readonly string[];
  keywords: KeywordIndexData;
  /** The build's embedder, for derivers that compare with fixed phrases. */
  embedder: Embedder;
}

export type Deriver = (input: DeriveInput) => Promise<DerivedRecord[]> | DerivedRecord[];

/** The reading side of one published generation. Its answers never change. */
export interface IndexSnapshot {
  /** Which generation this snapshot reads. */
  readonly generation: GenerationInfo;
  /**
   * Chunks nearest to a unit query vector (cosine), best first, at most k, that pass the
   * filters. Within named towns the search is exact; otherwise it may be approximate (HNSW).
   */
  searchChunks(vector: Float32Array, k: number, filters?: StoreFilters): Promise<ChunkHit[]>;
  /** Sentences nearest to a unit query vector, best first, at most k, of chunks that pass the filters. */
  searchSentences(vector: Float32Array, k: number, filters?: StoreFilters): Promise<SentenceHit[]>;
  /**
   * BM25 keyword search over the chunks' indexing tokens. `tokens` come from the tokenizer built
   * with lexicon() (src/text/tokenize.ts); ranking equals src/index/lexical.ts's searchKeywordIndex,
   * term weights being those of the whole generation whatever the filters.
   */
  searchKeywords(tokens: readonly string[], k: number, filters?: StoreFilters): Promise<ChunkHit[]>;
  /**
   * Chunks whose text holds `phrase` as written (drafting's exact-phrase search: no tokens, no
   * normalising), that pass the filters: `score` is how many times, counted without overlaps
   * from the left; most first, ties in ingest order; at most `limit`. Done by the store, so that
   * no caller reads every chunk to compare.
   */
  findPhrase(phrase: string, limit: number, filters?: StoreFilters): Promise<ChunkHit[]>;
  /** Chunks by id, in the order asked; an unknown id gives undefined at its place. */
  getChunks(ids: readonly string[]): Promise<Array<Chunk | undefined>>;
  /** Chunk embeddings by chunk id, in the order asked; undefined for an unknown id. */
  getChunkVectors(ids: readonly string[]): Promise<Array<Float32Array | undefined>>;
  /** Each chunk's sentence embeddings, in sentence order; unknown ids are absent from the map. */
  getSentenceVectors(chunkIds: readonly string[]): Promise<Map<string, Float32Array[]>>;
  /**
   * Cosine similarity of a unit query vector with each sentence of the given chunks, in sentence
   * order (what fusion and the extractive composer compute for their candidates), without sending
   * the vectors; unknown ids are absent from the map.
   */
  scoreSentences(vector: Float32Array, chunkIds: readonly string[]): Promise<Map<string, number[]>>;
  /** Metadata of every document, in ingest order. */
  listDocuments(): Promise<DocumentMeta[]>;
  /** Whole documents (cleaned text, sections, offsets) by id, in the order asked; undefined when unknown. */
  getDocuments(ids: readonly string[]): Promise<Array<ParsedDocument | undefined>>;
  /** Document frequency and idf of terms (per town too, when asked), with the generation's chunk count and mean length. */
  termStats(terms: readonly string[], options?: TermStatsOptions): Promise<TermStats>;
  /** Corpus terms added to the tokenizer's dictionary at ingest (pass to createTokenizer). */
  lexicon(): Promise<string[]>;
  /** Derived records of a kind; with keys, only those (in the order asked, unknown keys skipped). */
  getDerived<T = unknown>(kind: string, keys?: readonly string[]): Promise<Array<DerivedRecord<T>>>;
}

/** What a writer states about the generation it begins. */
export interface GenerationMeta {
  /** Embedder id the vectors come from (Embedder.id). */
  embeddingModel: string;
  /** Length of every vector that will be written. */
  dimension: number;
  /** Identifies the corpus-stage code that produced the chunks (PIPELINE_VERSION). */
  pipelineVersion: string;
  /** Name for the generation; default: a fresh `gen-<time>-<random>`. */
  id?: string;
  /**
   * Per corpus file: content hash, document id and chunk count, for incremental ingest (the
   * file store's manifest `files`). Default: none.
   */
  files?: Record<string, FileRecord>;
}

/** One chunk as written: the chunk, its embeddings and the tokens its postings are built from. */
export interface ChunkRecord {
  /** The chunk itself; its docId must name a document written to the same generation. */
  chunk: Chunk;
  /** Embedding of the chunk's indexing text (textForIndexing). */
  vector: Float32Array;
  /** One embedding per entry of chunk.sentences, in order. */
  sentenceVectors: readonly Float32Array[];
  /** Keyword tokens of the chunk's indexing text (order does not matter, repeats do: they are term frequencies). */
  tokens: readonly string[];
}

/**
 * Writes one new generation. Nothing written is visible to readers until publish() returns;
 * abort() (or a crash) leaves the published generation serving, and the partial generation is
 * removed then or by the next writer. Calls must not overlap (await each one).
 */
export interface GenerationWriter {
  /** Name of the generation being written. */
  readonly id: string;
  /** Adds documents (each chunk's document must be written before publish). */
  writeDocuments(documents: readonly ParsedDocument[]): Promise<void>;
  /** Adds chunks in ingest order, with their vectors and tokens; may be called in batches. */
  writeChunks(records: readonly ChunkRecord[]): Promise<void>;
  /** Sets the corpus terms of the tokenizer's dictionary (see IndexSnapshot.lexicon). */
  writeLexicon(terms: readonly string[]): Promise<void>;
  /** Adds derived records; a (kind, key) written twice keeps the last value. */
  writeDerived(records: readonly DerivedRecord[]): Promise<void>;
  /**
   * Checks the generation is whole (every chunk's document present, one vector per sentence,
   * vectors of the stated dimension) and makes it the published one atomically. Throws
   * E_INDEX_CORRUPT, and publishes nothing, when the check fails.
   */
  publish(): Promise<GenerationInfo>;
  /** Drops everything written; the published generation is untouched. */
  abort(): Promise<void>;
}

/** Options of IndexStore.watch. */
export interface WatchOptions {
  /** How often the published generation is polled, in ms. Default 1000. */
  intervalMs?: number;
  /**
   * The generation the caller already serves: a published generation other than this one is
   * reported at the first poll. Default: the first poll's answer is the baseline.
   */
  since?: string;
  /** Called when polling fails (the watch goes on). Default: ignore. */
  onError?: (error: unknown) => void;
}

/** An index store: the published generation's snapshots, its writer, and change notification. */
export interface IndexStore {
  /** Which back-end this is ('file', 'postgres'), for logs and health output. */
  readonly kind: string;
  /** Id of the published generation, or undefined when none was ever published. */
  publishedGeneration(): Promise<string | undefined>;
  /**
   * A snapshot of the published generation. Throws E_INDEX_MISSING when there is none,
   * E_INDEX_MISMATCH when it was built with another format, E_INDEX_CORRUPT when it is damaged.
   */
  snapshot(): Promise<IndexSnapshot>;
  /**
   * Begins a new generation. Throws E_BUSY while another live writer holds the store (the file
   * store finds out at publish, when src/index/store.ts takes the folder's write lock); a writer
   * that died is cleaned up here (PostgreSQL) or by the next write (files).
   */
  beginGeneration(meta: GenerationMeta): Promise<GenerationWriter>;
  /**
   * Calls `listener` with the new id whenever the published generation changes (a replica reloads
   * then). Returns a function that stops watching.
   */
  watch(listener: (generationId: string) => void, options?: WatchOptions): () => void;
  /** Releases connections, timers and memory. */
  close(): Promise<void>;
}

/** Which implementation to use (config INDEX_STORE). */
export type IndexStoreKind = 'file' | 'postgres';

/** Polls `read` every intervalMs and reports changes of its value; shared by the implementations. */
export function pollGeneration(
  read: () => Promise<string | undefined>,
  listener: (generationId: string) => void,
  options: WatchOptions = {},
): () => void {
  // The first read is the baseline: only later changes are reported (a first publish included).
  let first = options.since === undefined;
  let last: string | undefined = options.since;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      const now = await read();
      if (!stopped && !first && now !== undefined && now !== last) listener(now);
      first = false;
      last = now;
    } catch (error) {
      options.onError?.(error);
    }
    if (!stopped) timer = setTimeout(() => void tick(), options.intervalMs ?? 1000);
  };
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
