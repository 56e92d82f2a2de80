/**
 * Search for drafting staff (issue 15): the service's hybrid search, an exact-phrase search for
 * prior wording (a quoted query), and "more like this" from one passage's own vector; results
 * grouped by town and report, paged, with the offsets of the matching words in each passage so
 * a page can highlight them without parsing any text as markup.
 */
import type { QaService } from '../qa/service.js';
import { toHalfWidth } from '../corpus/clean.js';
import { AppError } from '../errors.js';
import { storeFiltersOf, toPassage, type IndexContext } from '../retrieve/context.js';
import { occurrences } from '../store/shared.js';
import type { Chunk, Passage, SearchFilters } from '../domain/types.js';
import type { IndexSnapshot } from '../store/index-store.js';

/** [start, end) offsets into a passage's `text`. */
export type Span = [number, number];

export interface DraftPassage extends Passage {
  /** Where the query's words (or the exact phrase) stand in `text`, sorted, not overlapping. */
  matches: Span[];
  /** Years the passage's section covers. */
  years: number[];
}

export interface ReportGroup {
  docId: string;
  title: string;
  date: string;
  /** Matching passages of this report among all candidates (not only this page). */
  count: number;
  results: DraftPassage[];
}

export interface TownGroup {
  town: string;
  /** Matching passages of this town among all candidates. */
  count: number;
  reports: ReportGroup[];
}

export type SearchMode = 'semantic' | 'exact' | 'like';

export interface DraftSearchRequest {
  /** The query; a query in quotes ("…" or “…”) is an exact phrase. Absent for `like`. */
  q?: string;
  /** chunkId of the passage to find more like. */
  like?: string;
  filters: SearchFilters;
  /** Results per page. */
  pageSize: number;
  /** 1-based page. */
  page: number;
  group: boolean;
}

export interface DraftSearchResponse {
  mode: SearchMode;
  /** The exact phrase searched, in exact mode. */
  phrase?: string;
  results: DraftPassage[];
  total: number;
  page: number;
  pageSize: number;
  hasMore: boolean;
  groups?: TownGroup[];
  tookMs: number;
}

/** Candidates a semantic search ranks before paging (the service caps one search at this many). */
export const SEMANTIC_CANDIDATES = 50;
/** Most passages an exact phrase search returns: a phrase in every paragraph is no longer "prior wording". */
export const EXACT_CANDIDATES = 300;
/** Candidates "more like this" takes from the vector index. */
export const LIKE_CANDIDATES = 50;
/** Words of the source passage highlighted in "more like this" results. */
const LIKE_TERMS = 12;

const QUOTED = /^\s*["“”「『](.+?)["“”」』]\s*$/s;

/**
 * The phrase of a quoted query, or undefined for an ordinary one. Written the way the cleaner
 * writes report text (full-width ASCII made half-width: ，becomes , and ２０２３ becomes 2023), so a
 * phrase copied from anywhere matches.
 */
export function quotedPhrase(q: string): string | undefined {
  const phrase = QUOTED.exec(q)?.[1]?.trim();
  return phrase ? [...phrase].map(toHalfWidth).join('') : undefined;
}

/** Sorts and merges overlapping or touching spans. */
export function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out: Span[] = [];
  for (const [s, e] of sorted) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** Every occurrence of each term in text (terms of one character only when nothing longer is given). */
export function findTerms(text: string, terms: readonly string[]): Span[] {
  const spans: Span[] = [];
  for (const term of new Set(terms)) {
    if (!term) continue;
    for (const at of occurrences(text, term)) spans.push([at, at + term.length]);
  }
  return mergeSpans(spans);
}

/** Words of a query worth highlighting: its tokens with a letter, digit or CJK character, two characters or more when any is. */
export function highlightTerms(index: Pick<IndexContext, 'tokenizer'>, q: string): string[] {
  const tokens = index.tokenizer.tokenize(q).filter((t) => /[\p{L}\p{N}]/u.test(t));
  const long = tokens.filter((t) => [...t].length >= 2);
  return long.length > 0 ? long : tokens;
}

/** The hits' chunks with their scores, in the hits' order (an id the snapshot no longer has is skipped). */
async function withChunks(snapshot: IndexSnapshot, hits: ReadonlyArray<{ chunkId: string; score: number }>): Promise<Array<{ chunk: Chunk; score: number }>> {
  const found = await snapshot.getChunks(hits.map((h) => h.chunkId));
  return hits.flatMap((h, i) => (found[i] ? [{ chunk: found[i]!, score: h.score }] : []));
}

/** Groups passages by town, then report, in order of first appearance; counts over `all`. */
export function groupByTown(page: readonly DraftPassage[], all: readonly Passage[]): TownGroup[] {
  const townCount = new Map<string, number>();
  const docCount = new Map<string, number>();
  for (const p of all) {
    townCount.set(p.town, (townCount.get(p.town) ?? 0) + 1);
    docCount.set(p.docId, (docCount.get(p.docId) ?? 0) + 1);
  }
  const towns = new Map<string, TownGroup>();
  for (const p of page) {
    let town = towns.get(p.town);
    if (!town) {
      town = { town: p.town, count: townCount.get(p.town) ?? 0, reports: [] };
      towns.set(p.town, town);
    }
    let report = town.reports.find((r) => r.docId === p.docId);
    if (!report) {
      report = { docId: p.docId, title: p.title, date: p.date, count: docCount.get(p.docId) ?? 0, results: [] };
      town.reports.push(report);
    }
    report.results.push(p);
  }
  return [...towns.values()];
}

/** Runs a drafting search over the service's index. */
export async function draftSearch(service: QaService, request: DraftSearchRequest): Promise<DraftSearchResponse> {
  const started = performance.now();
  const { index } = service;
  const { snapshot } = index;
  const filters = request.filters;
  let mode: SearchMode;
  let phrase: string | undefined;
  let ranked: Array<{ chunk: Chunk; score: number }>;
  let terms: string[];

  if (request.like !== undefined) {
    mode = 'like';
    const like = request.like;
    const [[source], [vector]] = await Promise.all([snapshot.getChunks([like]), snapshot.getChunkVectors([like])]);
    if (!source || !vector) throw new AppError('E_NOT_FOUND', `search: like: no passage "${like.slice(0, 120)}" in the index`, { kind: 'unknown-reference' });
    // One more than wanted, since the source itself is among the nearest.
    const hits = (await snapshot.searchChunks(vector, LIKE_CANDIDATES + 2, storeFiltersOf(filters))).filter((h) => h.chunkId !== like).slice(0, LIKE_CANDIDATES + 1);
    ranked = await withChunks(snapshot, hits);
    // The source's most distinctive words (by BM25 idf) are what a reader looks for in a passage
    // said to be like it; all of its words would colour half of every passage.
    const words = [...new Set(highlightTerms(index, source.text))];
    const { terms: weights } = await snapshot.termStats(words);
    const distinctive = words.sort((x, y) => weights[y]!.idf - weights[x]!.idf);
    terms = request.q ? highlightTerms(index, request.q) : distinctive.slice(0, LIKE_TERMS);
  } else {
    const q = request.q ?? '';
    phrase = quotedPhrase(q);
    if (phrase !== undefined) {
      mode = 'exact';
      const wanted = phrase;
      // Matched as written, not as tokens, by the store (most occurrences first, ties in the
      // reports' order).
      ranked = await withChunks(snapshot, await snapshot.findPhrase(wanted, EXACT_CANDIDATES, storeFiltersOf(filters)));
      terms = [wanted];
    } else {
      mode = 'semantic';
      const { results } = await service.search(q, SEMANTIC_CANDIDATES, Object.keys(filters).length > 0 ? filters : undefined);
      ranked = await withChunks(snapshot, results);
      terms = highlightTerms(index, q);
    }
  }

  const all = ranked.map(({ chunk, score }) => toPassage(index, chunk, score));
  const from = (request.page - 1) * request.pageSize;
  const years = new Map(ranked.map(({ chunk }) => [chunk.id, chunk.years]));
  const results: DraftPassage[] = all.slice(from, from + request.pageSize).map((p) => ({ ...p, years: years.get(p.chunkId) ?? [], matches: findTerms(p.text, terms) }));
  return {
    mode,
    ...(phrase !== undefined ? { phrase } : {}),
    results,
    total: all.length,
    page: request.page,
    pageSize: request.pageSize,
    hasMore: from + request.pageSize < all.length,
    ...(request.group ? { groups: groupByTown(results, all) } : {}),
    tookMs: Math.round(performance.now() - started),
  };
}
