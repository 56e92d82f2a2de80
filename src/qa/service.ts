/**
 * The question-answering service: one object holding an index generation's read context (from
 * the index store's snapshot) and the embedder, used alike by the HTTP server, the CLI and the
 * evaluation, so all three follow one code path. It
 * sits above answer/ and commitments/ and routes between them (qa/ask.ts); the jobs of a question
 * live in their own units (filters, rewrite, commitment-routing, llm-path, stream in this folder).
 */
import { DECISION_MODEL, type DecisionModel } from '../answer/decision.js';
import type { LlmClient } from '../answer/llm.js';
import { commitmentBookReader } from '../commitments/book.js';
import type { Embedder } from '../embed/embedder.js';
import { openIndexContext, type IndexContext } from '../retrieve/context.js';
import { retrieve } from '../retrieve/hybrid.js';
import type { IndexSnapshot } from '../store/index-store.js';
import { askQuestion, askQuestionStream, type QuestionContext } from './ask.js';
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

/** The service over one snapshot of the index store (a few reads build its context). */
export async function createQaService(snapshot: IndexSnapshot, embedder: Embedder, options: ServiceOptions): Promise<QaService> {
  return createQaServiceOver(await openIndexContext(snapshot), embedder, options);
}

/** The service over a context already read (several services over one snapshot share it). */
export function createQaServiceOver(index: IndexContext, embedder: Embedder, options: ServiceOptions): QaService {
  // What the service reads of the index, all here: the context's documents and towns, the stored book.
  const documentList = [...index.documents.values()];
  const filterScope: FilterScope = { towns: index.towns, years: coveredYearsOf(documentList) };
  const commitments = commitmentBookReader(index.snapshot);
  const summarize = (docId: string): DocumentSummary | undefined => {
    const meta = index.documents.get(docId);
    return meta ? { ...meta, chunks: index.chunkCountOf(docId) } : undefined;
  };

  const context: QuestionContext = {
    index,
    embedder,
    defaultTopK: options.defaultTopK,
    compose: { model: options.model ?? DECISION_MODEL, ...(options.threshold !== undefined ? { threshold: options.threshold } : {}) },
    llm: options.llm,
    filterScope,
    rewriteScope: { towns: index.towns, segmenter: index.tokenizer.segmenter, yearsOf: (town) => index.townFacts.get(town)?.coveredYears ?? [], reportYearOf: (town) => index.townFacts.get(town)?.reportYear },
    commitments,
  };

  return {
    indexVersion: index.generation.id,
    embeddingModel: index.generation.embeddingModel,
    towns: index.towns,
    index,

    ask: (input) => askQuestion(input, context),
    askStream: (input) => askQuestionStream(input, context),

    async search(query, k, filters) {
      const started = performance.now();
      checkFilters(filters, filterScope);
      // A search shows passages only: none of the sentence evidence an answer reads.
      const retrieval = await retrieve(index, embedder, query, { topK: k, evidence: false, ...(filters ? { filters } : {}) });
      return { results: retrieval.passages, tookMs: Math.round(performance.now() - started) };
    },

    listDocuments() {
      return documentList.map((d) => summarize(d.docId)!);
    },

    documentSummary: summarize,

    async getDocument(docId) {
      const summary = summarize(docId);
      const [doc] = summary ? await index.snapshot.getDocuments([docId]) : [];
      if (!summary || !doc) return undefined;
      const sections = doc.sections.map((s) => ({ heading: s.heading, path: s.path, role: s.role, years: s.years, start: s.start, end: s.end }));
      return { ...summary, sections, text: doc.text };
    },

    stats() {
      return { documents: index.generation.documents, chunks: index.generation.chunks };
    },

    async asRetriever(retrieverOptions = {}) {
      checkFilters(retrieverOptions.filters, filterScope);
      // LangChain's core (~15 MB) is loaded on first use: the server never uses this.
      const { ReportRetriever } = await import('../retrieve/langchain-retriever.js');
      return new ReportRetriever({ index, embedder, ...retrieverOptions });
    },

    commitments,
    getDerived: (kind, keys) => index.snapshot.getDerived(kind, keys),
    cacheStats: () => undefined,
  };
}
