/**
 * What retrieval and the extractive composer read about a generation, computed once at ingest
 * (registered in src/index/derive.ts) so that loading an index and answering only read:
 *
 * - 'sentence-tokens', per chunk id: the keyword tokens of each sentence (string[][]), with the
 *   tokenizer keyword search uses, for matching a question's terms sentence by sentence;
 * - 'sentence-annotations', per chunk id: each sentence's period, stance and figures;
 * - 'town-facts', per town: its latest report year, the years its reports cover (metadata) and the
 *   years they mention in the text (今年/去年 and "does any report speak of 2018?" read these);
 * - 'document-chunks', per document id: its chunks' ids and spans in order (a document offset
 *   found back in its passage);
 * - 'document-sections', per document id: its outline;
 * - 'indicators', per town: that town's figures of the indicator table of /api/indicators, and
 *   'indicator-summary', one record 'all': the table's indicators and years.
 */
import { buildIndicatorTable, indicatorNames, type IndicatorFigure } from '../annotate/indicators.js';
import type { SentenceAnnotation } from '../annotate/sentence.js';
import type { DeriveInput } from '../store/index-store.js';
import type { DerivedRecord } from '../store/index-store.js';

export const SENTENCE_TOKENS = 'sentence-tokens';
export const SENTENCE_ANNOTATIONS = 'sentence-annotations';
export const TOWN_FACTS = 'town-facts';
export const DOCUMENT_CHUNKS = 'document-chunks';
/** Each document's section tree (its ParsedDocument.sections), by document id. */
export const DOCUMENT_SECTIONS = 'document-sections';
/** The indicator table a town at a time: key the town, value its figures in the table's order. */
export const INDICATORS = 'indicators';
/** The one record of what the whole table holds (key {@link INDICATOR_SUMMARY_KEY}): IndicatorSummary. */
export const INDICATOR_SUMMARY = 'indicator-summary';
export const INDICATOR_SUMMARY_KEY = 'all';

/** The indicators (in indicatorNames' order) and years of the whole table. */
export interface IndicatorSummary {
  indicators: string[];
  years: number[];
}

/** What the reports of one town say about time. */
export interface TownFacts {
  /** Year of the town's latest report (its date); absent when no date has a year. */
  reportYear?: number;
  /** Years the town's reports cover (review or plan), as their metadata says. */
  coveredYears: number[];
  /** Years the town's reports cover or mention (a 2018年 in the text). */
  years: number[];
}

/** One chunk of a document, in the document's order (DOCUMENT_CHUNKS). */
export interface ChunkSpan {
  id: string;
  start: number;
  end: number;
}

/** A year written as four digits before 年 (2021年), not part of a longer number. */
const YEAR_MENTION = /(?<!\d)((?:19|20)\d{2})(?=年)/g;

/** The per-town facts of a corpus: the rules makeSearchable applied at every load before issue 11. */
export function townFactsOf(documents: DeriveInput['documents']): Map<string, TownFacts> {
  const facts = new Map<string, TownFacts>();
  for (const d of documents) {
    const town = d.meta.town;
    const f = facts.get(town) ?? { coveredYears: [], years: [] };
    f.coveredYears = [...new Set([...f.coveredYears, ...d.meta.years])];
    const year = Number(d.meta.date.slice(0, 4));
    if (Number.isFinite(year) && year > (f.reportYear ?? 0)) f.reportYear = year;
    const mentioned = [...d.text.matchAll(YEAR_MENTION)].map((m) => Number(m[1]));
    f.years = [...new Set([...f.years, ...d.meta.years, ...mentioned])];
    facts.set(town, f);
  }
  return facts;
}

/** Sentence tokens, sentence annotations, town facts, document chunks and sections, and the indicator table. */
export function deriveRetrievalRecords(input: DeriveInput): DerivedRecord[] {
  const text = new Map(input.documents.map((d) => [d.meta.docId, d.text]));
  const records: DerivedRecord[] = [];
  input.chunks.forEach((chunk, i) => {
    const doc = text.get(chunk.docId) ?? '';
    const tokens: string[][] = chunk.sentences.map(([s, e]) => input.tokenizer.tokenize(doc.slice(s, e)));
    records.push({ kind: SENTENCE_TOKENS, key: chunk.id, value: tokens });
    const annotations: readonly SentenceAnnotation[] = input.sentenceAnnotations[i] ?? [];
    records.push({ kind: SENTENCE_ANNOTATIONS, key: chunk.id, value: annotations });
  });
  for (const [town, facts] of townFactsOf(input.documents)) records.push({ kind: TOWN_FACTS, key: town, value: facts });
  const spans = new Map<string, ChunkSpan[]>(input.documents.map((d) => [d.meta.docId, []]));
  for (const c of input.chunks) spans.get(c.docId)?.push({ id: c.id, start: c.start, end: c.end });
  for (const [docId, list] of spans) records.push({ kind: DOCUMENT_CHUNKS, key: docId, value: list });
  // The outline without the text, so that a document's outline is read without its text.
  for (const d of input.documents) records.push({ kind: DOCUMENT_SECTIONS, key: d.meta.docId, value: d.sections });
  // By town, so that a reader holds the towns it is asked for (5,000 reports' table is ~100 MB of objects).
  const table: IndicatorFigure[] = buildIndicatorTable(input.documents, input.chunks, input.sentenceAnnotations.flat());
  const byTown = new Map<string, IndicatorFigure[]>();
  for (const f of table) {
    const figures = byTown.get(f.town);
    if (figures) figures.push(f);
    else byTown.set(f.town, [f]);
  }
  for (const [town, figures] of byTown) records.push({ kind: INDICATORS, key: town, value: figures });
  const summary: IndicatorSummary = { indicators: indicatorNames(table), years: [...new Set(table.map((f) => f.year))].sort((a, b) => a - b) };
  records.push({ kind: INDICATOR_SUMMARY, key: INDICATOR_SUMMARY_KEY, value: summary });
  return records;
}
