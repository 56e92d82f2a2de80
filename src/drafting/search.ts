/**
 * Search for drafting staff (issue 15): the service's hybrid search, an exact-phrase search for
 * prior wording (a quoted query), and "more like this" from one passage's own vector; results
 * grouped by town and report, paged, with the offsets of the matching words in each passage so
 * a page can highlight them without parsing any text as markup.
 */
import type { QaService } from '../answer/service.js';
import { toHalfWidth } from '../corpus/clean.js';
import { AppError } from '../errors.js';
import { idf } from '../index/lexical.js';
import { toPassage, type SearchableIndex } from '../retrieve/hybrid.js';
import type { Chunk, Passage, SearchFilters } from '../domain/types.js';
import { rowsById } from './similar.js';

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
    for (let at = text.indexOf(term); at >= 0; at = text.indexOf(term, at + term.length)) spans.push([at, at + term.length]);
  }
  return mergeSpans(spans);
}

/** Words of a query worth highlighting: its tokens with a letter, digit or CJK character, two characters or more when any is. */
export function highlightTerms(searchable: SearchableIndex, q: string): string[] {
  const tokens = searchable.tokenizer.tokenize(q).filter((t) => /[\p{L}\p{N}]/u.test(t));
  const long = tokens.filter((t) => [...t].length >= 2);
  return long.length > 0 ? long : tokens;
}

function accepts(chunk: Chunk, filters: SearchFilters): boolean {
  if (filters.town && chunk.town !== filters.town) return false;
  if (filters.role && chunk.role !== filters.role) return false;
  if (filters.year !== undefined && !chunk.years.includes(filters.year)) return false;
  return true;
}

function rowOf(searchable: SearchableIndex, chunkId: string): number {
  const row = rowsById(searchable).get(chunkId);
  if (row === undefined) throw new AppError('E_NOT_FOUND', `search: like: no passage "${chunkId.slice(0, 120)}" in the index`, { status: 400 });
  return row;
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
  const { searchable } = service;
  const { chunks } = searchable.index;
  const filters = request.filters;
  let mode: SearchMode;
  let phrase: string | undefined;
  let ranked: Array<{ chunk: Chunk; score: number }>;
  let terms: string[];

  if (request.like !== undefined) {
    mode = 'like';
    const row = rowOf(searchable, request.like);
    const source = chunks[row]!;
    const hits = searchable.index.vectors.search(searchable.index.embeddings[row]!, LIKE_CANDIDATES + 1, (i) => i !== row && accepts(chunks[i]!, filters));
    ranked = hits.map((h) => ({ chunk: chunks[h.index]!, score: h.score }));
    // The source's most distinctive words (by BM25 idf) are what a reader looks for in a passage
    // said to be like it; all of its words would colour half of every passage.
    const distinctive = [...new Set(highlightTerms(searchable, source.text))].sort((x, y) => idf(searchable.index.keywords, y) - idf(searchable.index.keywords, x));
    terms = request.q ? highlightTerms(searchable, request.q) : distinctive.slice(0, LIKE_TERMS);
  } else {
    const q = request.q ?? '';
    phrase = quotedPhrase(q);
    if (phrase !== undefined) {
      mode = 'exact';
      const wanted = phrase;
      ranked = chunks
        .filter((c) => accepts(c, filters) && c.text.includes(wanted))
        .map((chunk) => ({ chunk, score: findTerms(chunk.text, [wanted]).length }))
        // Most occurrences first; ties keep the reports' own order (stable sort).
        .sort((a, b) => b.score - a.score)
        .slice(0, EXACT_CANDIDATES);
      terms = [wanted];
    } else {
      mode = 'semantic';
      const { results } = await service.search(q, SEMANTIC_CANDIDATES, Object.keys(filters).length > 0 ? filters : undefined);
      const byId = new Map(chunks.map((c) => [c.id, c]));
      ranked = results.flatMap((p) => {
        const chunk = byId.get(p.chunkId);
        return chunk ? [{ chunk, score: p.score }] : [];
      });
      terms = highlightTerms(searchable, q);
    }
  }

  const all = ranked.map(({ chunk, score }) => toPassage(searchable, chunk, score));
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
