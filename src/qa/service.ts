/**
 * The question-answering service: one object holding the loaded index and the embedder, used
 * alike by the HTTP server, the CLI and the evaluation, so all three follow one code path. It
 * sits above answer/ and commitments/ and routes between them (qa/ask.ts); the jobs of a question
 * live in their own units (filters, rewrite, commitment-routing, llm-path, stream in this folder).
 */
import { DECISION_MODEL, type DecisionModel } from '../answer/decision.js';
import type { LlmClient } from '../answer/llm.js';
import { readCommitmentBook } from '../commitments/book.js';
import type { Embedder } from '../embed/embedder.js';
import type { LoadedIndex } from '../index/store.js';
import { makeSearchable, retrieve, type SearchableIndex } from '../retrieve/hybrid.js';
import { ReportRetriever } from '../retrieve/langchain-retriever.js';
import { snapshotOfLoadedIndex } from '../store/file-store.js';
import { askQuestion, askQuestionStream, type QuestionContext } from './ask.js';
import { holdCommitmentBook } from './commitment-routing.js';
import { checkFilters, coveredYearsOf, type FilterScope } from './filters.js';
import type { DocumentSummary, QaService } from './types.js';

export { DEFAULT_THRESHOLD } from '../answer/decision.js';
export type { AskInput, AskOutput, AskStreamEvent, DocumentSummary, QaService } from './types.js';

export interface ServiceOptions {
  /** Passages cited when a request names no topK. */
  defaultTopK: number;
  /**
   * Probability (of the decision model) below which a candidate does not answer. Default: the
   * threshold fitted with the weights (decision-weights.json, `npm run calibrate`).
   */
  threshold?: number;
  /** The answer/abstain model. Default: the committed decision-weights.json. */
  model?: DecisionModel;

  /** The optional LLM (config LLM_*): answers are generated from the passages, then checked. Default: none. */
  llm?: LlmClient | undefined;
}

export function createQaService(index: LoadedIndex, embedder: Embedder, options: ServiceOptions): QaService {
  // What the service reads of the index, all here: retrieval's lookups, the documents and their chunk counts.
  const searchable: SearchableIndex = makeSearchable(index);
  const chunkCounts = new Map<string, number>();
  for (const c of index.chunks) chunkCounts.set(c.docId, (chunkCounts.get(c.docId) ?? 0) + 1);
  const filterScope: FilterScope = { towns: searchable.towns, years: coveredYearsOf(index.documents) };
  const snapshot = snapshotOfLoadedIndex(index);
  const commitments = holdCommitmentBook(() => readCommitmentBook(snapshot));
  const summarize = (docId: string): DocumentSummary | undefined => {
    const doc = searchable.documents.get(docId);
    if (!doc) return undefined;
    return {
      ...doc.meta,
      chunks: chunkCounts.get(docId) ?? 0,
      sections: doc.sections.map((s) => ({ heading: s.heading, path: s.path, role: s.role, years: s.years, start: s.start, end: s.end })),
    };
  };

  const context: QuestionContext = {
    searchable,
    embedder,
    defaultTopK: options.defaultTopK,
    compose: { model: options.model ?? DECISION_MODEL, ...(options.threshold !== undefined ? { threshold: options.threshold } : {}) },
    llm: options.llm,
    filterScope,
    rewriteScope: { towns: searchable.towns, yearsOf: (town) => searchable.coveredYears.get(town) ?? [], reportYearOf: (town) => searchable.reportYears.get(town) },
    snapshot,
    commitments,
  };

  return {
    indexVersion: index.manifest.indexVersion,
    embeddingModel: index.manifest.embeddingModel,
    towns: searchable.towns,
    searchable,

    ask: (input) => askQuestion(input, context),
    askStream: (input) => askQuestionStream(input, context),

    async search(query, k, filters) {
      const started = performance.now();
      checkFilters(filters, filterScope);
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
      checkFilters(retrieverOptions.filters, filterScope);
      return new ReportRetriever({ searchable, embedder, ...retrieverOptions });
    },

    commitments,
    getDerived: (kind, keys) => snapshot.getDerived(kind, keys),
    cacheStats: () => undefined,
  };
}
