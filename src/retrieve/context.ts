/**
 * The read context of one index generation: what every question needs at hand, read once from
 * the index store's snapshot (tokenizer from its lexicon, each document's metadata and outline,
 * the towns and their facts, each document's chunk list) and nothing computed over the corpus
 * here: whatever is derived was computed at ingest (src/retrieve/derive.ts). Everything else
 * (report texts, chunks, vectors, postings, annotations) stays in the store and is fetched when
 * needed, by id: a server on a database store holds no report text, however large the corpus.
 */
import { idfOfCount } from '../index/lexical.js';
import type { IndexSnapshot, GenerationInfo, StoreFilters, TermStats } from '../store/index-store.js';
import { prepareTokenizer, type Tokenizer } from '../text/tokenize.js';
import type { Chunk, ParsedDocument, Passage, SearchFilters } from '../domain/types.js';
import { DOCUMENT_CHUNKS, DOCUMENT_SECTIONS, INDICATORS, INDICATORS_KEY, TOWN_FACTS, type ChunkSpan, type TownFacts } from './derive.js';
import type { IndicatorFigure } from '../annotate/indicators.js';

/** A document as the context holds it: metadata and section tree, not the text. */
export type DocumentOutline = Pick<ParsedDocument, 'meta' | 'sections'>;

export interface IndexContext {
  /** The store's snapshot every per-question read goes to. */
  readonly snapshot: IndexSnapshot;
  readonly generation: GenerationInfo;
  /** The keyword tokenizer, with the corpus lexicon (the one ingest used). */
  readonly tokenizer: Tokenizer;
  /** Every document's metadata and outline by id, in ingest order (texts: snapshot.getDocuments). */
  readonly documents: ReadonlyMap<string, DocumentOutline>;
  /** Towns with a report, in corpus order. */
  readonly towns: string[];
  /** What each town's reports say about time (TownFacts). */
  readonly townFacts: ReadonlyMap<string, TownFacts>;
  /** Each document's chunks (ids and spans), in the document's order. */
  readonly chunksOf: (docId: string) => readonly ChunkSpan[];
  /**
   * A chunk's place in the corpus (ingest order: its document's place, then its own): ties of a
   * ranking are broken by it, as they were by row number.
   */
  readonly orderOf: (chunk: Pick<Chunk, 'id' | 'docId'>) => number;
  /** The indicator table (read from the store on first use, then kept). */
  indicators(): Promise<IndicatorFigure[]>;
}

/** Builds the context of a snapshot: a handful of reads. */
export async function openIndexContext(snapshot: IndexSnapshot): Promise<IndexContext> {
  const [lexicon, metas, facts, spans, outlines] = await Promise.all([
    snapshot.lexicon(),
    snapshot.listDocuments(),
    snapshot.getDerived<TownFacts>(TOWN_FACTS),
    snapshot.getDerived<ChunkSpan[]>(DOCUMENT_CHUNKS),
    snapshot.getDerived<ParsedDocument['sections']>(DOCUMENT_SECTIONS),
  ]);
  const ids = metas.map((m) => m.docId);
  const sectionsOf = new Map(outlines.map((r) => [r.key, r.value]));
  const documents = new Map<string, DocumentOutline>(metas.map((meta) => [meta.docId, { meta, sections: sectionsOf.get(meta.docId) ?? [] }]));
  const chunkLists = new Map(spans.map((r) => [r.key, r.value]));
  const documentOrder = new Map(ids.map((id, i) => [id, i]));
  let indicators: Promise<IndicatorFigure[]> | undefined;
  return {
    snapshot,
    generation: snapshot.generation,
    // Built a slice at a time (jieba's dictionary load would hold the loop ~150 ms), or reused.
    tokenizer: await prepareTokenizer(lexicon),
    documents,
    towns: [...new Set(metas.map((m) => m.town).filter(Boolean))],
    townFacts: new Map(facts.map((r) => [r.key, r.value])),
    chunksOf: (docId) => chunkLists.get(docId) ?? [],
    // Its document's place, then its own within the document (a document has far fewer than 2^20 chunks).
    orderOf: (chunk) => (documentOrder.get(chunk.docId) ?? ids.length) * 2 ** 20 + (chunkLists.get(chunk.docId)?.findIndex((s) => s.id === chunk.id) ?? 0),
    indicators() {
      indicators ??= snapshot.getDerived<IndicatorFigure[]>(INDICATORS, [INDICATORS_KEY]).then((r) => r[0]?.value ?? []);
      return indicators;
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

/** Ids of every chunk, in corpus order. */
export function allChunkIds(context: IndexContext): string[] {
  return [...context.documents.keys()].flatMap((docId) => context.chunksOf(docId).map((s) => s.id));
}

/** Where a chunk stands (document, town, date, section, role): the citation fields every result shares. */
export function citationFieldsOf(context: Pick<IndexContext, 'documents'>, chunk: Chunk): Pick<Passage, 'chunkId' | 'docId' | 'title' | 'town' | 'date' | 'section' | 'role'> {
  const doc = context.documents.get(chunk.docId);
  return {
    chunkId: chunk.id,
    docId: chunk.docId,
    title: doc?.meta.title ?? '',
    town: chunk.town,
    date: doc?.meta.date ?? '',
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
