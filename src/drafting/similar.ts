/**
 * "How others put it" (issue 15): for a span of one passage, the closest sentences in other
 * towns' reports and in the same town's reports of other years. Reads the sentence vectors the
 * index store already holds (one per sentence, see Chunk.sentences): nothing is embedded here.
 */
import { AppError } from '../errors.js';
import { chunkText, citationFieldsOf, type IndexContext } from '../retrieve/context.js';
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
export async function resolveSpan(index: IndexContext, chunkId: string, start: number | undefined, end: number | undefined, field = 'chunkId'): Promise<{ chunk: Chunk; start: number; end: number }> {
  const [chunk] = await index.snapshot.getChunks([chunkId]);
  return checkSpan(chunk, chunkId, start, end, field);
}

/** The span of a chunk fetched for `chunkId`, checked as resolveSpan says. */
export function checkSpan(chunk: Chunk | undefined, chunkId: string, start: number | undefined, end: number | undefined, field = 'chunkId'): { chunk: Chunk; start: number; end: number } {
  if (!chunk) throw new AppError('E_NOT_FOUND', `${field}: no passage "${chunkId.slice(0, 120)}" in the index`, { kind: 'unknown-reference' });
  const s = start ?? chunk.start;
  const e = end ?? chunk.end;
  if (!(Number.isInteger(s) && Number.isInteger(e)) || s < chunk.start || e > chunk.end || s >= e) {
    throw new AppError('E_BAD_REQUEST', `${field}: start/end ${s}-${e} must lie within passage "${chunkId.slice(0, 120)}" (${chunk.start}-${chunk.end}) with start < end`);
  }
  return { chunk, start: s, end: e };
}

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const norm = Math.sqrt(n) || 1;
  return v.map((x) => x / norm);
}

function sentenceOf(index: IndexContext, chunk: Chunk, start: number, end: number) {
  return {
    ...citationFieldsOf(index, chunk),
    years: chunk.years,
    text: chunkText(chunk, start, end),
    start,
    end,
    passage: { start: chunk.start, end: chunk.end },
  };
}

/** The closest sentences to a span, from other towns and from the same town's other years. */
export async function findSimilarSentences(index: IndexContext, request: SimilarRequest): Promise<SimilarResult> {
  const { snapshot } = index;
  const { chunk, start, end } = await resolveSpan(index, request.chunkId, request.start, request.end);
  // The span's vector: the mean of the vectors of the sentences it overlaps.
  const own = (await snapshot.getSentenceVectors([chunk.id])).get(chunk.id) ?? [];
  const dimension = index.generation.dimension;
  const sum = new Float32Array(dimension);
  let overlapped = 0;
  chunk.sentences.forEach(([s, e], k) => {
    const v = own[k];
    if (v && s < end && e > start) {
      for (let i = 0; i < dimension; i++) sum[i]! += v[i]!;
      overlapped++;
    }
  });
  // A chunk without sentence vectors (cannot happen for an index this code built) falls back to the passage vector.
  const query = overlapped > 0 ? normalize(sum) : (await snapshot.getChunkVectors([chunk.id]))[0]!;
  const sourceDoc = index.documents.get(chunk.docId);
  const sourceYears = new Set(sourceDoc?.years ?? []);

  // Every sentence of the other towns, and of the same town's reports of other years, by similarity.
  const all = index.generation.sentences;
  const otherTowns = index.towns.filter((t) => t !== chunk.town);
  const [others, same] = await Promise.all([
    otherTowns.length > 0 ? snapshot.searchSentences(query, all, { towns: otherTowns }) : [],
    snapshot.searchSentences(query, all, { towns: [chunk.town] }),
  ]);
  const hits = [...others.map((h) => ({ ...h, relation: 'other-town' as const })), ...same.map((h) => ({ ...h, relation: 'other-year' as const }))];
  const ids = [...new Set(hits.map((h) => h.chunkId))];
  const chunks = new Map((await snapshot.getChunks(ids)).flatMap((c) => (c ? [[c.id, c] as const] : [])));
  const scored: Array<{ chunk: Chunk; k: number; score: number; order: number; relation: SimilarSentence['relation'] }> = [];
  for (const hit of hits) {
    const c = chunks.get(hit.chunkId);
    if (!c) continue;
    if (hit.relation === 'other-year' && (c.docId === chunk.docId || (index.documents.get(c.docId)?.years ?? []).every((y) => sourceYears.has(y)))) continue;
    const [s, e] = c.sentences[hit.sentence]!;
    if (e - s < MIN_SENTENCE_CHARS) continue;
    if (HEADING.test(chunkText(c, s, Math.min(e, s + 8)))) continue;
    scored.push({ chunk: c, k: hit.sentence, score: hit.score, order: index.orderOf(c), relation: hit.relation });
  }
  scored.sort((a, b) => b.score - a.score || a.order - b.order || a.k - b.k);

  const perReport = new Map<string, number>();
  const seen = new Set<string>();
  const sentences: SimilarSentence[] = [];
  for (const hit of scored) {
    if (sentences.length >= request.k) break;
    const c = hit.chunk;
    const n = perReport.get(c.docId) ?? 0;
    if (n >= perReportOf(request.k)) continue;
    const [s, e] = c.sentences[hit.k]!;
    const sentence = sentenceOf(index, c, s, e);
    // The same wording repeated in a report (a slogan) is shown once.
    if (seen.has(sentence.text)) continue;
    seen.add(sentence.text);
    perReport.set(c.docId, n + 1);
    sentences.push({ ...sentence, score: Math.round(hit.score * 1000) / 1000, relation: hit.relation });
  }
  const towns = new Map<string, SimilarSentence[]>();
  for (const s of sentences) towns.set(s.town, [...(towns.get(s.town) ?? []), s]);
  return {
    source: sentenceOf(index, chunk, start, end),
    sentences,
    towns: [...towns].map(([town, list]) => ({ town, sentences: list })),
  };
}
