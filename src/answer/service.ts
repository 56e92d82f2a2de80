/**
 * The question-answering service: one object holding the loaded index and the embedder, used
 * alike by the HTTP server, the CLI and the evaluation, so all three follow one code path.
 */
import type { Embedder } from '../embed/embedder.js';
import { AppError } from '../errors.js';
import type { LoadedIndex } from '../index/store.js';
import { makeSearchable, retrieve, type SearchableIndex } from '../retrieve/hybrid.js';
import { ReportRetriever } from '../retrieve/langchain-retriever.js';
import type { DocumentMeta, Passage, SearchFilters } from '../types.js';
import { composeExtractiveAnswer, type AnswerDiagnostics, type Citation } from './extractive.js';

export interface AskInput {
  question: string;
  topK?: number;
  filters?: SearchFilters;
}

export interface AskOutput {
  answer: string;
  found: boolean;
  mode: 'extractive';
  citations: Citation[];
  tookMs: number;
}

/**
 * What the streaming variant of ask emits, in order: `meta` once (citations are known before the
 * text), `delta` pieces of answer text, possibly `replace` (the text so far is superseded, e.g.
 * by a fallback answer), and `done` with the whole response, which is final.
 */
export type AskStreamEvent =
  | { type: 'meta'; found: boolean; mode: AskOutput['mode']; citations: Citation[] }
  | { type: 'delta'; text: string }
  | { type: 'replace'; text: string }
  | { type: 'done'; response: AskOutput };

/** Splits an extractive answer after each citation marker, so it can be streamed quote by quote. */
export function answerPieces(answer: string): string[] {
  return answer.split(/(?<=\]|\][;。])(?=[^;。\]])/).filter(Boolean);
}

export interface ServiceOptions {
  /** Passages cited when a request names no topK. */
  defaultTopK: number;
  /** Confidence below which answers are `found: false` (see docs/benchmarks.md for calibration). */
  threshold: number;
}

export interface DocumentSummary extends DocumentMeta {
  chunks: number;
  sections: Array<{ heading: string; path: string[]; role: string; years: number[]; start: number; end: number }>;
}

export interface QaService {
  readonly indexVersion: string;
  readonly embeddingModel: string;
  readonly towns: readonly string[];
  ask(input: AskInput): Promise<AskOutput & { diagnostics: AnswerDiagnostics }>;
  /** The same answer as ask(), as events for a progressive display (server-sent events). */
  askStream(input: AskInput): AsyncGenerator<AskStreamEvent>;
  search(query: string, k: number, filters?: SearchFilters): Promise<{ results: Passage[]; tookMs: number }>;
  listDocuments(): DocumentSummary[];
  getDocument(docId: string): (DocumentSummary & { text: string }) | undefined;
  stats(): { documents: number; chunks: number };
  /** The same retrieval as a LangChain retriever. */
  asRetriever(options?: { k?: number; filters?: SearchFilters }): ReportRetriever;
}

/** Default confidence threshold, calibrated on the dev set's unanswerable questions. */
export const DEFAULT_THRESHOLD = 0.53;

export function createQaService(index: LoadedIndex, embedder: Embedder, options: ServiceOptions): QaService {
  const searchable: SearchableIndex = makeSearchable(index);
  const chunkCounts = new Map<string, number>();
  for (const c of index.chunks) chunkCounts.set(c.docId, (chunkCounts.get(c.docId) ?? 0) + 1);

  const checkFilters = (filters: SearchFilters = {}): void => {
    if (filters.town !== undefined && !searchable.towns.includes(filters.town)) {
      throw new AppError('E_UNKNOWN_FILTER', `filters.town: unknown town "${filters.town}"; known: ${searchable.towns.join(', ')}`, { status: 400 });
    }
    if (filters.year !== undefined && !index.documents.some((d) => d.meta.years.includes(filters.year!))) {
      const years = [...new Set(index.documents.flatMap((d) => d.meta.years))].sort();
      throw new AppError('E_UNKNOWN_FILTER', `filters.year: no report covers ${filters.year}; covered: ${years.join(', ')}`, { status: 400 });
    }
  };

  const summarize = (docId: string): DocumentSummary | undefined => {
    const doc = searchable.documents.get(docId);
    if (!doc) return undefined;
    return {
      ...doc.meta,
      chunks: chunkCounts.get(docId) ?? 0,
      sections: doc.sections.map((s) => ({ heading: s.heading, path: s.path, role: s.role, years: s.years, start: s.start, end: s.end })),
    };
  };

  return {
    indexVersion: index.manifest.indexVersion,
    embeddingModel: index.manifest.embeddingModel,
    towns: searchable.towns,

    async ask(input) {
      const started = performance.now();
      checkFilters(input.filters);
      const retrieval = await retrieve(searchable, embedder, input.question, {
        topK: input.topK ?? options.defaultTopK,
        ...(input.filters ? { filters: input.filters } : {}),
      });
      const answer = composeExtractiveAnswer(searchable, retrieval, { threshold: options.threshold });
      return { ...answer, tookMs: Math.round(performance.now() - started) };
    },

    async *askStream(input) {
      const { diagnostics: _diagnostics, ...response } = await this.ask(input);
      yield { type: 'meta', found: response.found, mode: response.mode, citations: response.citations };
      for (const text of answerPieces(response.answer)) yield { type: 'delta', text };
      yield { type: 'done', response };
    },

    async search(query, k, filters) {
      const started = performance.now();
      checkFilters(filters);
      const retrieval = await retrieve(searchable, embedder, query, { topK: k, ...(filters ? { filters } : {}) });
      return { results: retrieval.passages, tookMs: Math.round(performance.now() - started) };
    },

    listDocuments() {
      return index.documents.map((d) => summarize(d.meta.docId)!);
    },

    getDocument(docId) {
      const summary = summarize(docId);
      return summary ? { ...summary, text: searchable.documents.get(docId)!.text } : undefined;
    },

    stats() {
      return { documents: index.documents.length, chunks: index.chunks.length };
    },

    asRetriever(retrieverOptions = {}) {
      checkFilters(retrieverOptions.filters);
      return new ReportRetriever({ searchable, embedder, ...retrieverOptions });
    },
  };
}
