/**
 * Hybrid retrieval: dense (hnswlib, cosine) and BM25 candidates fused by reciprocal rank fusion,
 * under the caller's filters and the question's own hints. A town named in the question narrows
 * the search to that town; a year or a plan/result wording boosts matching sections.
 */
import type { Embedder } from '../embed/embedder.js';
import { searchKeywordIndex, type ScoredIndex } from '../index/lexical.js';
import type { LoadedIndex } from '../index/store.js';
import { createTokenizer, type Tokenizer } from '../text/tokenize.js';
import type { Chunk, ParsedDocument, Passage, SearchFilters } from '../domain/types.js';
import { analyzeQuery, focusOf, type QueryAnalysis } from './query.js';

/** A loaded index with what retrieval derives from it once: tokenizer, lookups, town list. */
export interface SearchableIndex {
  index: LoadedIndex;
  tokenizer: Tokenizer;
  documents: Map<string, ParsedDocument>;
  towns: string[];
  /** Tokens of sentence k of chunk `row`, tokenised once and then remembered. */
  sentenceTokens(row: number, k: number): Set<string>;
  /** Chunk rows of each town, for searching one town's reports exactly. */
  rowsByTown: Map<string, number[]>;
  /** Year of each town's latest report (its date): 今年/去年 in a question are read against it. */
  reportYears: Map<string, number>;
  /** Years each town's reports cover or mention. */
  yearsByTown: Map<string, number[]>;
  /** Years each town's reports cover (review or plan), as their metadata says. */
  coveredYears: Map<string, number[]>;
  /** Whether the keyword index knows a term (own properties only: `constructor` is no term). */
  knownTerm(term: string): boolean;
  /** A term's postings (flat [row, tf, …]); empty for an unknown term. */
  postingsOf(term: string): readonly number[];
}

export function makeSearchable(index: LoadedIndex): SearchableIndex {
  const tokenizer = createTokenizer(index.lexicon);
  const documents = new Map(index.documents.map((d) => [d.meta.docId, d]));
  const remembered = new Map<number, Set<string>>();
  const rowsByTown = new Map<string, number[]>();
  index.chunks.forEach((c, row) => {
    const rows = rowsByTown.get(c.town);
    if (rows) rows.push(row);
    else rowsByTown.set(c.town, [row]);
  });
  const reportYears = new Map<string, number>();
  const yearsByTown = new Map<string, number[]>();
  const coveredYears = new Map<string, number[]>();
  for (const d of index.documents) {
    coveredYears.set(d.meta.town, [...new Set([...(coveredYears.get(d.meta.town) ?? []), ...d.meta.years])]);
    const year = Number(d.meta.date.slice(0, 4));
    if (Number.isFinite(year) && year > (reportYears.get(d.meta.town) ?? 0)) reportYears.set(d.meta.town, year);
    const mentioned = [...d.text.matchAll(/(?<!\d)((?:19|20)\d{2})(?=年)/g)].map((m) => Number(m[1]));
    yearsByTown.set(d.meta.town, [...new Set([...(yearsByTown.get(d.meta.town) ?? []), ...d.meta.years, ...mentioned])]);
  }
  const postings = index.keywords.postings;
  const postingsOf = (term: string): readonly number[] => (Object.hasOwn(postings, term) ? postings[term]! : []);
  return {
    index,
    rowsByTown,
    reportYears,
    yearsByTown,
    coveredYears,
    postingsOf,
    knownTerm: (term) => postingsOf(term).length > 0,
    tokenizer,
    documents,
    towns: [...new Set(index.documents.map((d) => d.meta.town).filter(Boolean))],
    sentenceTokens(row, k) {
      const key = index.sentenceRows[row]! + k;
      let tokens = remembered.get(key);
      if (!tokens) {
        const chunk = index.chunks[row]!;
        const [s, e] = chunk.sentences[k]!;
        tokens = new Set(tokenizer.tokenize(documents.get(chunk.docId)!.text.slice(s, e)));
        remembered.set(key, tokens);
      }
      return tokens;
    },
  };
}

export interface RetrieveOptions {
  /** Passages returned. */
  topK: number;
  filters?: SearchFilters;
  /** Candidates taken from each retriever before fusion. Default 40. */
  candidates?: number;
  /** Use the question's own town/year/intent hints. Default true. */
  useHints?: boolean;
}

/** A fused candidate with the evidence retrieval has about it. */
export interface ScoredChunk {
  row: number;
  chunk: Chunk;
  fused: number;
  /** Cosine similarity of chunk and question (0 when only BM25 found it). */
  dense: number;
  bm25: number;
}

export interface Retrieval {
  question: string;
  /** Embedding of the question without the town and year it names (see focusOf). */
  queryVector: Float32Array;
  /** Towns the search was restricted to (by filter or by the question); empty for all. */
  scopeTowns: string[];
  analysis: QueryAnalysis;
  queryTokens: string[];
  ranked: ScoredChunk[];
  passages: Passage[];
}

/** RRF constant: ranks beyond a few dozen contribute little; 60 is the customary value. */
const RRF_K = 60;
const ROLE_BOOST = 1.15;
const YEAR_BOOST = 1.15;
/** Weight of the best-sentence ranking in the fusion, relative to dense and BM25 (1 each). */
const SENTENCE_WEIGHT = 1;

/**
 * Exact dense search within some towns' chunks. A town is a small share of a large corpus, and
 * hnswlib under so selective a filter walks much of its graph to find enough accepted nodes;
 * comparing with the few hundred vectors of a town directly is faster and exact.
 */
function exactSearch(searchable: SearchableIndex, towns: string[], vector: Float32Array, k: number, accept: (row: number) => boolean): ScoredIndex[] {
  const { embeddings } = searchable.index;
  return towns
    .flatMap((town) => searchable.rowsByTown.get(town) ?? [])
    .filter(accept)
    .map((row) => ({ index: row, score: dot(vector, embeddings[row]!) }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k);
}

/** The chunk's sentence closest to the question: its similarity and its index. */
function bestSentence(index: LoadedIndex, row: number, vector: Float32Array): { similarity: number; k: number } {
  const first = index.sentenceRows[row]!;
  let best = { similarity: -1, k: 0 };
  for (let k = 0; k < index.chunks[row]!.sentences.length; k++) {
    const similarity = dot(vector, index.sentenceEmbeddings[first + k]!);
    if (similarity > best.similarity) best = { similarity, k };
  }
  return best;
}

/** Wording of a scheduled or promised action, which a review section also uses (二期计划9月底前竣工). */
const PLANNED = /计划|将|拟|力争|确保|预计|年内|月底前/;

/** Where a chunk stands (document, town, date, section, role): the citation fields every result shares. */
export function citationFieldsOf(searchable: SearchableIndex, chunk: Chunk): Pick<Passage, 'chunkId' | 'docId' | 'title' | 'town' | 'date' | 'section' | 'role'> {
  const doc = searchable.documents.get(chunk.docId);
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

export function toPassage(searchable: SearchableIndex, chunk: Chunk, score: number): Passage {
  return {
    ...citationFieldsOf(searchable, chunk),
    text: chunk.text,
    start: chunk.start,
    end: chunk.end,
    score: Math.round(score * 1000) / 1000,
  };
}

/** Retrieves the passages that best answer a question. */
export async function retrieve(
  searchable: SearchableIndex,
  embedder: Embedder,
  question: string,
  options: RetrieveOptions,
): Promise<Retrieval> {
  const { index } = searchable;
  const filters = options.filters ?? {};
  const analysis = analyzeQuery(question, searchable.towns);
  const hints = options.useHints !== false;
  const towns = filters.town ? [filters.town] : hints ? analysis.towns : [];
  const accept = (row: number): boolean => {
    const chunk = index.chunks[row]!;
    if (towns.length > 0 && !towns.includes(chunk.town)) return false;
    if (filters.role && chunk.role !== filters.role) return false;
    if (filters.year !== undefined && !chunk.years.includes(filters.year)) return false;
    return true;
  };

  const n = options.candidates ?? 40;
  const queryTokens = searchable.tokenizer.tokenize(question);
  // One embedding per question, of its focus: the town is already a filter, and every passage of
  // the right report shares the town and year, so they would only blur the comparison.
  const queryVector = await embedder.embedQuery(focusOf(question, analysis.towns));
  const dense = towns.length > 0 ? exactSearch(searchable, towns, queryVector, n, accept) : index.vectors.search(queryVector, n, accept);
  const lexical = searchKeywordIndex(index.keywords, queryTokens, n, accept);

  const byRow = new Map<number, ScoredChunk>();
  const entry = (row: number): ScoredChunk => {
    let e = byRow.get(row);
    if (!e) {
      e = { row, chunk: index.chunks[row]!, fused: 0, dense: 0, bm25: 0 };
      byRow.set(row, e);
    }
    return e;
  };
  dense.forEach((hit, rank) => {
    const e = entry(hit.index);
    e.fused += 1 / (RRF_K + rank + 1);
    e.dense = hit.score;
  });
  lexical.forEach((hit, rank) => {
    const e = entry(hit.index);
    e.fused += 1 / (RRF_K + rank + 1);
    e.bm25 = hit.score;
  });
  // A third ranking: each candidate by its best sentence, compared with the question's focus.
  // A passage that holds one sentence answering the question can read, as a whole, about
  // something else.
  const bySentence = [...byRow.values()]
    .map((e) => ({ e, best: bestSentence(index, e.row, queryVector) }))
    .sort((a, b) => b.best.similarity - a.best.similarity);
  bySentence.forEach(({ e }, rank) => (e.fused += SENTENCE_WEIGHT / (RRF_K + rank + 1)));
  // Plan or result is a property of the statement; the section's role stands for it, except
  // where the sentence that answers says otherwise (a plan reported in a review section).
  const statesPlan = new Map(
    bySentence.map(({ e, best }) => {
      const [s, end] = e.chunk.sentences[best.k] ?? [0, 0];
      return [e.row, PLANNED.test(searchable.documents.get(e.chunk.docId)?.text.slice(s, end) ?? '')];
    }),
  );
  // Chunks only BM25 found still need a cosine score for answer confidence.
  for (const e of byRow.values()) {
    if (e.dense === 0) e.dense = dot(queryVector, index.embeddings[e.row]!);
    const roleMatches = e.chunk.role === analysis.role || (analysis.role === 'plan' && statesPlan.get(e.row) === true);
    if (hints && analysis.role && roleMatches) e.fused *= ROLE_BOOST;
    if (hints && analysis.years.some((y) => e.chunk.years.includes(y))) e.fused *= YEAR_BOOST;
  }
  const ranked = [...byRow.values()].sort((a, b) => b.fused - a.fused || a.row - b.row);
  const passages = ranked.slice(0, options.topK).map((e) => toPassage(searchable, e.chunk, e.dense));
  return { question, queryVector, scopeTowns: towns, analysis, queryTokens, ranked, passages };
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
