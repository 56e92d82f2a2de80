/**
 * The file index store: IndexStore over today's index folder (src/index/store.ts generations,
 * hnswlib graph, BM25 postings). An adapter: reading, writing, checksums, the write lock and the
 * CURRENT switch stay in src/index/; this file maps chunk ids to rows and applies the filters.
 */
import { AppError } from '../errors.js';
import { buildKeywordIndex, idf, searchKeywordIndex, type ScoredIndex } from '../index/lexical.js';
import { currentGeneration, INDEX_FORMAT_VERSION, openIndex, writeIndex, type IndexData, type LoadedIndex, type Manifest } from '../index/store.js';
import { buildVectorIndex } from '../index/vector.js';
import type { Chunk, ParsedDocument } from '../domain/types.js';
import type {
  ChunkHit,
  ChunkRecord,
  DerivedRecord,
  GenerationInfo,
  GenerationMeta,
  GenerationWriter,
  IndexSnapshot,
  IndexStore,
  SentenceHit,
  StoreFilters,
  TermStats,
  WatchOptions,
} from './index-store.js';
import { pollGeneration } from './index-store.js';
import { checkGenerationId, GenerationCheck, occurrences, dotProduct, newGenerationId, filtersNothing, passesFilters } from './shared.js';

export interface FileStoreOptions {
  /** The index folder (config INDEX_DIR). */
  indexDir: string;
  /** Model the index must have been built with (a mismatch is E_INDEX_MISMATCH). */
  embeddingModel: string;
  /** Vector length the index must have. */
  dimension: number;
}

function infoOf(manifest: Manifest, sentences: number): GenerationInfo {
  return {
    id: manifest.indexVersion,
    createdAt: manifest.createdAt,
    formatVersion: manifest.formatVersion,
    embeddingModel: manifest.embeddingModel,
    dimension: manifest.dimension,
    pipelineVersion: manifest.pipelineVersion,
    documents: manifest.documents,
    chunks: manifest.chunks,
    sentences,
    files: manifest.files,
  };
}

/** A snapshot over one loaded generation (exported for tests and for callers that already hold a LoadedIndex). */
export function snapshotOfLoadedIndex(index: LoadedIndex): IndexSnapshot {
  const rowOf = new Map(index.chunks.map((c, row) => [c.id, row]));
  const documents = new Map(index.documents.map((d) => [d.meta.docId, d]));
  const rowsByTown = new Map<string, number[]>();
  index.chunks.forEach((c, row) => {
    const rows = rowsByTown.get(c.town);
    if (rows) rows.push(row);
    else rowsByTown.set(c.town, [row]);
  });
  const derivedByKind = new Map<string, Map<string, DerivedRecord>>();
  for (const record of index.derived) {
    let kind = derivedByKind.get(record.kind);
    if (!kind) derivedByKind.set(record.kind, (kind = new Map()));
    kind.set(record.key, record);
  }
  const accept = (filters: StoreFilters | undefined) => (row: number) => passesFilters(index.chunks[row]!, filters);
  const toHits = (hits: ScoredIndex[]): ChunkHit[] => hits.map((h) => ({ chunkId: index.chunks[h.index]!.id, score: h.score }));
  const sentenceCount = index.sentenceEmbeddings.length;

  return {
    generation: infoOf(index.manifest, sentenceCount),
    async searchChunks(vector, k, filters) {
      const towns = filters?.towns ?? [];
      // Without a filter hnswlib need not call back into JavaScript for every node it visits.
      if (towns.length === 0) return toHits(index.vectors.search(vector, k, filtersNothing(filters) ? undefined : accept(filters)));
      // Exact within the towns: hnswlib under so selective a filter walks most of its graph.
      const ok = accept(filters);
      return toHits(
        towns
          .flatMap((town) => rowsByTown.get(town) ?? [])
          .filter(ok)
          .map((row) => ({ index: row, score: dotProduct(vector, index.embeddings[row]!) }))
          .sort((a, b) => b.score - a.score || a.index - b.index)
          .slice(0, k),
      );
    },
    async searchSentences(vector, k, filters) {
      const hits: Array<SentenceHit & { row: number }> = [];
      const towns = filters?.towns ?? [];
      const rows = towns.length > 0 ? towns.flatMap((t) => rowsByTown.get(t) ?? []) : index.chunks.map((_, row) => row);
      const ok = accept(filters);
      for (const row of rows) {
        if (!ok(row)) continue;
        const chunk = index.chunks[row]!;
        const first = index.sentenceRows[row]!;
        for (let s = 0; s < chunk.sentences.length; s++) {
          hits.push({ chunkId: chunk.id, sentence: s, row, score: dotProduct(vector, index.sentenceEmbeddings[first + s]!) });
        }
      }
      return hits
        .sort((a, b) => b.score - a.score || a.row - b.row || a.sentence - b.sentence)
        .slice(0, k)
        .map(({ chunkId, sentence, score }) => ({ chunkId, sentence, score }));
    },
    async searchKeywords(tokens, k, filters) {
      return toHits(searchKeywordIndex(index.keywords, tokens, k, accept(filters)));
    },
    async findPhrase(phrase, limit, filters) {
      if (!phrase || limit <= 0) return [];
      const ok = accept(filters);
      const hits: ScoredIndex[] = [];
      index.chunks.forEach((chunk, row) => {
        const n = ok(row) ? occurrences(chunk.text, phrase).length : 0;
        if (n > 0) hits.push({ index: row, score: n });
      });
      return toHits(hits.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, limit));
    },
    async getChunks(ids) {
      return ids.map((id) => {
        const row = rowOf.get(id);
        return row === undefined ? undefined : index.chunks[row];
      });
    },
    async getChunkVectors(ids) {
      return ids.map((id) => {
        const row = rowOf.get(id);
        return row === undefined ? undefined : index.embeddings[row];
      });
    },
    async getSentenceVectors(chunkIds) {
      const out = new Map<string, Float32Array[]>();
      for (const id of chunkIds) {
        const row = rowOf.get(id);
        if (row === undefined) continue;
        const first = index.sentenceRows[row]!;
        out.set(id, index.sentenceEmbeddings.slice(first, first + index.chunks[row]!.sentences.length));
      }
      return out;
    },
    async scoreSentences(vector, chunkIds) {
      const out = new Map<string, number[]>();
      for (const id of chunkIds) {
        const row = rowOf.get(id);
        if (row === undefined) continue;
        const first = index.sentenceRows[row]!;
        out.set(
          id,
          index.chunks[row]!.sentences.map((_, k) => dotProduct(vector, index.sentenceEmbeddings[first + k]!)),
        );
      }
      return out;
    },
    async listDocuments() {
      return index.documents.map((d) => d.meta);
    },
    async getDocuments(ids) {
      return ids.map((id) => documents.get(id));
    },
    async termStats(terms, options): Promise<TermStats> {
      const stats: TermStats['terms'] = {};
      for (const term of terms) {
        const postings = Object.hasOwn(index.keywords.postings, term) ? index.keywords.postings[term]! : [];
        stats[term] = { df: postings.length / 2, idf: idf(index.keywords, term) };
        if (options?.byTown) {
          const towns: Record<string, number> = {};
          const only = options.towns ? new Set(options.towns) : undefined;
          for (let i = 0; i < postings.length; i += 2) {
            const town = index.chunks[postings[i]!]!.town;
            if (only && !only.has(town)) continue;
            towns[town] = (towns[town] ?? 0) + 1;
          }
          stats[term]!.towns = towns;
        }
      }
      return { chunkCount: index.keywords.docLengths.length, averageLength: index.keywords.averageLength, terms: stats };
    },
    async lexicon() {
      return [...index.lexicon];
    },
    async getDerived<T>(kind: string, keys?: readonly string[]) {
      const records = derivedByKind.get(kind);
      if (!records) return [];
      const list = keys ? keys.flatMap((k) => (records.has(k) ? [records.get(k)!] : [])) : [...records.values()];
      return list as Array<DerivedRecord<T>>;
    },
  };
}

class FileGenerationWriter implements GenerationWriter {
  readonly id: string;
  private documents: ParsedDocument[] = [];
  private records: ChunkRecord[] = [];
  private lexiconTerms: string[] = [];
  private derived = new Map<string, DerivedRecord>();
  private done = false;
  private readonly check: GenerationCheck;

  constructor(
    private readonly indexDir: string,
    private readonly meta: GenerationMeta,
  ) {
    this.id = checkGenerationId(meta.id ?? newGenerationId());
    this.check = new GenerationCheck(meta.dimension);
  }

  private open(): void {
    if (this.done) throw new AppError('E_BAD_REQUEST', `store: generation ${this.id} was already published or aborted`);
  }

  async writeDocuments(documents: readonly ParsedDocument[]): Promise<void> {
    this.open();
    this.check.addDocuments(documents);
    this.documents.push(...documents);
  }

  async writeChunks(records: readonly ChunkRecord[]): Promise<void> {
    this.open();
    this.check.addChunks(records);
    this.records.push(...records);
  }

  async writeLexicon(terms: readonly string[]): Promise<void> {
    this.open();
    this.lexiconTerms = [...terms];
  }

  async writeDerived(records: readonly DerivedRecord[]): Promise<void> {
    this.open();
    for (const r of records) this.derived.set(JSON.stringify([r.kind, r.key]), { kind: r.kind, key: r.key, value: r.value });
  }

  async publish(): Promise<GenerationInfo> {
    this.open();
    this.check.finish();
    const chunks: Chunk[] = this.records.map((r) => r.chunk);
    const embeddings = this.records.map((r) => r.vector);
    const manifest: Manifest = {
      formatVersion: INDEX_FORMAT_VERSION,
      indexVersion: this.id,
      createdAt: new Date().toISOString(),
      embeddingModel: this.meta.embeddingModel,
      dimension: this.meta.dimension,
      pipelineVersion: this.meta.pipelineVersion,
      documents: this.documents.length,
      chunks: chunks.length,
      files: this.meta.files ?? {},
    };
    const data: IndexData = {
      manifest,
      documents: this.documents,
      chunks,
      embeddings,
      sentenceEmbeddings: this.records.flatMap((r) => [...r.sentenceVectors]),
      keywords: buildKeywordIndex(this.records.map((r) => [...r.tokens])),
      lexicon: this.lexiconTerms,
      derived: [...this.derived.values()],
    };
    writeIndex(this.indexDir, data, buildVectorIndex(embeddings, this.meta.dimension));
    this.done = true;
    this.documents = [];
    this.records = [];
    return infoOf(manifest, data.sentenceEmbeddings.length);
  }

  async abort(): Promise<void> {
    // Nothing reached the disk: writeIndex runs only in publish().
    this.done = true;
    this.documents = [];
    this.records = [];
  }
}

/** Opens the file store over an index folder (which may be empty: snapshot() then throws E_INDEX_MISSING). */
export function createFileStore(options: FileStoreOptions): IndexStore {
  let loaded: { id: string; snapshot: Promise<IndexSnapshot> } | undefined;
  const stops = new Set<() => void>();

  // Without blocking (openIndex): a server opens the next generation while it answers from this one.
  const load = async (): Promise<IndexSnapshot> => snapshotOfLoadedIndex(await openIndex(options.indexDir, { embeddingModel: options.embeddingModel, dimension: options.dimension }));

  return {
    kind: 'file',
    async publishedGeneration() {
      return currentGeneration(options.indexDir);
    },
    async snapshot() {
      const id = currentGeneration(options.indexDir);
      if (!loaded || loaded.id !== id) {
        const snapshot = load();
        loaded = { id: id ?? '', snapshot };
        // A failed load is not remembered: the next call tries again.
        snapshot.catch(() => {
          if (loaded?.snapshot === snapshot) loaded = undefined;
        });
      }
      return loaded.snapshot;
    },
    async beginGeneration(meta) {
      // writeIndex takes the folder's write lock when publishing; E_BUSY comes from there.
      return new FileGenerationWriter(options.indexDir, meta);
    },
    watch(listener: (generationId: string) => void, watchOptions?: WatchOptions) {
      const stop = pollGeneration(async () => currentGeneration(options.indexDir), listener, watchOptions);
      stops.add(stop);
      return () => {
        stop();
        stops.delete(stop);
      };
    },
    async close() {
      for (const stop of stops) stop();
      stops.clear();
      loaded = undefined;
    },
  };
}
