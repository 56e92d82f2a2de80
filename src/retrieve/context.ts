/**
 * The read context of one index generation: what every question needs at hand, read once from
 * the index store's snapshot (tokenizer from its lexicon, each document's metadata, the towns and
 * their facts) and nothing computed over the corpus here: whatever is derived was computed at
 * ingest (src/retrieve/derive.ts). Everything else (report texts and outlines, chunk lists,
 * chunks, vectors, postings, annotations) stays in the store and is fetched when needed, by id: a
 * server on a database store holds no report text, however large the corpus (5,000 reports'
 * outlines and chunk lists alone are ~45 MB of objects).
 */
import { idfOfCount } from '../index/lexical.js';
import type { IndexSnapshot, GenerationInfo, StoreFilters, TermStats } from '../store/index-store.js';
import { prepareTokenizer, type Tokenizer } from '../text/tokenize.js';
import type { Chunk, DocumentMeta, Passage, SearchFilters } from '../domain/types.js';
import { DOCUMENT_CHUNKS, INDICATOR_SUMMARY, INDICATOR_SUMMARY_KEY, INDICATORS, TOWN_FACTS, type ChunkSpan, type IndicatorSummary, type TownFacts } from './derive.js';
import type { IndicatorFigure } from '../annotate/indicators.js';

export interface IndexContext {
  /** The store's snapshot every per-question read goes to. */
  readonly snapshot: IndexSnapshot;
  readonly generation: GenerationInfo;
  /** The keyword tokenizer, with the corpus lexicon (the one ingest used). */
  readonly tokenizer: Tokenizer;
  /** Every document's metadata by id, in ingest order (texts and outlines: snapshot.getDocuments). */
  readonly documents: ReadonlyMap<string, DocumentMeta>;
  /** Towns with a report, in corpus order. */
  readonly towns: string[];
  /** What each town's reports say about time (TownFacts). */
  readonly townFacts: ReadonlyMap<string, TownFacts>;
  /** How many chunks each document has (from the generation's file records). */
  readonly chunkCountOf: (docId: string) => number;
  /** A document's chunks (ids and spans), in the document's order, read from the store. */
  chunkSpansOf(docId: string): Promise<readonly ChunkSpan[]>;
  /**
   * A chunk's place in the corpus (ingest order: its document's place, then its own, which is the
   * order of its start offset): ties of a ranking are broken by it, as they were by row number.
   */
  readonly orderOf: (chunk: Pick<Chunk, 'docId' | 'start'>) => number;
  /** The indicator table's figures of these towns, in their order, read from the store (not kept). */
  indicators(towns: readonly string[]): Promise<IndicatorFigure[]>;
  /** The indicators and years of the whole table (read on first use, then kept: it is small). */
  indicatorSummary(): Promise<IndicatorSummary>;
}

/** Builds the context of a snapshot: a handful of reads. */
export async function openIndexContext(snapshot: IndexSnapshot): Promise<IndexContext> {
  const [lexicon, metas, facts] = await Promise.all([snapshot.lexicon(), snapshot.listDocuments(), snapshot.getDerived<TownFacts>(TOWN_FACTS)]);
  const ids = metas.map((m) => m.docId);
  const documents = new Map<string, DocumentMeta>(metas.map((meta) => [meta.docId, meta]));
  const chunkCounts = new Map(Object.values(snapshot.generation.files).map((f) => [f.docId, f.chunks]));
  const documentOrder = new Map(ids.map((id, i) => [id, i]));
  let summary: Promise<IndicatorSummary> | undefined;
  return {
    snapshot,
    generation: snapshot.generation,
    // Built a slice at a time (jieba's dictionary load would hold the loop ~150 ms), or reused.
    tokenizer: await prepareTokenizer(lexicon),
    documents,
    towns: [...new Set(metas.map((m) => m.town).filter(Boolean))],
    townFacts: new Map(facts.map((r) => [r.key, r.value])),
    chunkCountOf: (docId) => chunkCounts.get(docId) ?? 0,
    async chunkSpansOf(docId) {
      return (await snapshot.getDerived<ChunkSpan[]>(DOCUMENT_CHUNKS, [docId]))[0]?.value ?? [];
    },
    // Its document's place, then its start offset (a report is far shorter than 2^32 characters).
    orderOf: (chunk) => (documentOrder.get(chunk.docId) ?? ids.length) * 2 ** 32 + chunk.start,
    async indicators(towns) {
      return (await snapshot.getDerived<IndicatorFigure[]>(INDICATORS, towns)).flatMap((r) => r.value);
    },
    indicatorSummary() {
      // A failed read is not kept: the next call reads again.
      summary ??= snapshot
        .getDerived<IndicatorSummary>(INDICATOR_SUMMARY, [INDICATOR_SUMMARY_KEY])
        .then((r) => r[0]?.value ?? { indicators: [], years: [] })
        .catch((err: unknown) => ((summary = undefined), Promise.reject(err)));
      return summary;
    },
  };
}

/** A request's filters as the index store applies them; `towns` (when given) stand for filters.town. */
export function storeFiltersOf(filters: SearchFilters, towns: readonly string[] = filters.town ? [filters.town] : []): StoreFilters {
  return {
    ...(towns.length > 0 ? { towns } : {}),
    ...(filters.role ? { role: filters.role } : {}),
    ...(filters.year !== undefined ? { year: filters.year } : {}),
  };
}

/** Ids of every chunk, in corpus order (benchmarks; it reads every document's chunk list). */
export async function allChunkIds(context: IndexContext): Promise<string[]> {
  const lists = new Map((await context.snapshot.getDerived<ChunkSpan[]>(DOCUMENT_CHUNKS)).map((r) => [r.key, r.value]));
  return [...context.documents.keys()].flatMap((docId) => (lists.get(docId) ?? []).map((s) => s.id));
}

/** Where a chunk stands (document, town, date, section, role): the citation fields every result shares. */
export function citationFieldsOf(context: Pick<IndexContext, 'documents'>, chunk: Chunk): Pick<Passage, 'chunkId' | 'docId' | 'title' | 'town' | 'date' | 'section' | 'role'> {
  const doc = context.documents.get(chunk.docId);
  return {
    chunkId: chunk.id,
    docId: chunk.docId,
    title: doc?.title ?? '',
    town: chunk.town,
    date: doc?.date ?? '',
    section: chunk.sectionPath.join(' > '),
    role: chunk.role,
  };
}

/**
 * The text at report offsets [start, end) inside `chunk` (a sentence of it): a chunk's text is its
 * report's text between its offsets, so no report text need be at hand.
 */
export function chunkText(chunk: Pick<Chunk, 'text' | 'start'>, start: number, end: number): string {
  return chunk.text.slice(start - chunk.start, end - chunk.start);
}

export function toPassage(context: Pick<IndexContext, 'documents'>, chunk: Chunk, score: number): Passage {
  return {
    ...citationFieldsOf(context, chunk),
    text: chunk.text,
    start: chunk.start,
    end: chunk.end,
    score: Math.round(score * 1000) / 1000,
  };
}

/** Term statistics as plain data, with the lookups the composer makes of them. */
export interface TermTable {
  stats: TermStats;
  /** Whether the keyword index knows the term (some chunk holds it). */
  known(term: string): boolean;
  /** The term's BM25 idf (that of an unknown term for a term not asked for). */
  idf(term: string): number;
  /** Whether any chunk of the towns holds the term. */
  inTowns(term: string, towns: readonly string[]): boolean;
}

/** Lookups over term statistics fetched with byTown. */
export function termTableOf(stats: TermStats): TermTable {
  const own = (term: string) => (Object.hasOwn(stats.terms, term) ? stats.terms[term] : undefined);
  return {
    stats,
    known: (term) => (own(term)?.df ?? 0) > 0,
    idf: (term) => own(term)?.idf ?? idfOfCount(0, stats.chunkCount),
    inTowns: (term, towns) => {
      const byTown = own(term)?.towns ?? {};
      return towns.some((t) => (Object.hasOwn(byTown, t) ? byTown[t]! : 0) > 0);
    },
  };
}
