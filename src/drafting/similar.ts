/**
 * "How others put it" (issue 15): for a span of one passage, the closest sentences in other
 * towns' reports and in the same town's reports of other years. Reads the sentence vectors the
 * index already holds (one per sentence, see Chunk.sentences): nothing is embedded here.
 */
import { AppError } from '../errors.js';
import { citationFieldsOf, dot, type SearchableIndex } from '../retrieve/hybrid.js';
import type { Chunk, Passage } from '../domain/types.js';

/** One sentence with its citation. Offsets index the document's cleaned text. */
export interface SimilarSentence extends Omit<Passage, 'score'> {
  years: number[];
  /** The passage holding the sentence, for the document view and the basket. */
  passage: { start: number; end: number };
  /** Cosine similarity to the selected span. */
  score: number;
  /** `other-town`, or `other-year` for the same town's report of other years. */
  relation: 'other-town' | 'other-year';
}

export interface SimilarResult {
  source: Omit<SimilarSentence, 'score' | 'relation'>;
  sentences: SimilarSentence[];
  /** The sentences grouped by town, in order of each town's best score. */
  towns: Array<{ town: string; sentences: SimilarSentence[] }>;
}

export interface SimilarRequest {
  chunkId: string;
  /** Span in document offsets; default the whole passage. */
  start?: number;
  end?: number;
  /** Sentences returned. */
  k: number;
}

/** Sentences shorter than this (a heading such as 一、, a list number) say nothing to reuse. */
const MIN_SENTENCE_CHARS = 8;
/** A heading (一、… (二)… 3.…) is a title, not wording to reuse. */
const HEADING = /^\s*(?:[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|\d+[.、．])/;

/** At most this share of k from one report (and never fewer than 2), so that k results span several towns. */
const perReportOf = (k: number): number => Math.max(2, Math.ceil(k / 4));

/** Looks up a chunk by id and checks that [start, end) lies inside it; errors name the field. */
export function resolveSpan(searchable: SearchableIndex, chunkId: string, start: number | undefined, end: number | undefined, field = 'chunkId'): { row: number; chunk: Chunk; start: number; end: number } {
  const row = rowsById(searchable).get(chunkId);
  if (row === undefined) throw new AppError('E_NOT_FOUND', `${field}: no passage "${chunkId.slice(0, 120)}" in the index`, { status: 400 });
  const chunk = searchable.index.chunks[row]!;
  const s = start ?? chunk.start;
  const e = end ?? chunk.end;
  if (!(Number.isInteger(s) && Number.isInteger(e)) || s < chunk.start || e > chunk.end || s >= e) {
    throw new AppError('E_BAD_REQUEST', `${field}: start/end ${s}-${e} must lie within passage "${chunkId.slice(0, 120)}" (${chunk.start}-${chunk.end}) with start < end`, { status: 400 });
  }
  return { row, chunk, start: s, end: e };
}

const rowIndexes = new WeakMap<SearchableIndex, Map<string, number>>();

/** chunkId -> row, built once per loaded index. */
export function rowsById(searchable: SearchableIndex): Map<string, number> {
  let rows = rowIndexes.get(searchable);
  if (!rows) {
    rows = new Map(searchable.index.chunks.map((c, i) => [c.id, i]));
    rowIndexes.set(searchable, rows);
  }
  return rows;
}

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const norm = Math.sqrt(n) || 1;
  return v.map((x) => x / norm);
}

function sentenceOf(searchable: SearchableIndex, chunk: Chunk, start: number, end: number) {
  const doc = searchable.documents.get(chunk.docId);
  return {
    ...citationFieldsOf(searchable, chunk),
    years: chunk.years,
    text: doc?.text.slice(start, end) ?? '',
    start,
    end,
    passage: { start: chunk.start, end: chunk.end },
  };
}

/** The closest sentences to a span, from other towns and from the same town's other years. */
export function findSimilarSentences(searchable: SearchableIndex, request: SimilarRequest): SimilarResult {
  const { index } = searchable;
  const { row, chunk, start, end } = resolveSpan(searchable, request.chunkId, request.start, request.end);
  // The span's vector: the mean of the vectors of the sentences it overlaps.
  const first = index.sentenceRows[row]!;
  const dimension = index.manifest.dimension;
  const sum = new Float32Array(dimension);
  let overlapped = 0;
  chunk.sentences.forEach(([s, e], k) => {
    if (s < end && e > start) {
      const v = index.sentenceEmbeddings[first + k]!;
      for (let i = 0; i < dimension; i++) sum[i]! += v[i]!;
      overlapped++;
    }
  });
  // A chunk without sentence rows (cannot happen for an index this code built) falls back to the passage vector.
  const query = overlapped > 0 ? normalize(sum) : index.embeddings[row]!;
  const sourceDoc = searchable.documents.get(chunk.docId);
  const sourceYears = new Set(sourceDoc?.meta.years ?? []);

  const scored: Array<{ row: number; k: number; score: number; relation: SimilarSentence['relation'] }> = [];
  index.chunks.forEach((c, r) => {
    let relation: SimilarSentence['relation'];
    if (c.town !== chunk.town) relation = 'other-town';
    else if (c.docId !== chunk.docId && !(searchable.documents.get(c.docId)?.meta.years ?? []).every((y) => sourceYears.has(y))) relation = 'other-year';
    else return;
    const base = index.sentenceRows[r]!;
    c.sentences.forEach(([s, e], k) => {
      if (e - s < MIN_SENTENCE_CHARS) return;
      if (HEADING.test(searchable.documents.get(c.docId)?.text.slice(s, Math.min(e, s + 8)) ?? '')) return;
      scored.push({ row: r, k, score: dot(query, index.sentenceEmbeddings[base + k]!), relation });
    });
  });
  scored.sort((a, b) => b.score - a.score || a.row - b.row || a.k - b.k);

  const perReport = new Map<string, number>();
  const seen = new Set<string>();
  const sentences: SimilarSentence[] = [];
  for (const hit of scored) {
    if (sentences.length >= request.k) break;
    const c = index.chunks[hit.row]!;
    const n = perReport.get(c.docId) ?? 0;
    if (n >= perReportOf(request.k)) continue;
    const [s, e] = c.sentences[hit.k]!;
    const sentence = sentenceOf(searchable, c, s, e);
    // The same wording repeated in a report (a slogan) is shown once.
    if (seen.has(sentence.text)) continue;
    seen.add(sentence.text);
    perReport.set(c.docId, n + 1);
    sentences.push({ ...sentence, score: Math.round(hit.score * 1000) / 1000, relation: hit.relation });
  }
  const towns = new Map<string, SimilarSentence[]>();
  for (const s of sentences) towns.set(s.town, [...(towns.get(s.town) ?? []), s]);
  return {
    source: sentenceOf(searchable, chunk, start, end),
    sentences,
    towns: [...towns].map(([town, list]) => ({ town, sentences: list })),
  };
}
