/**
 * The QA service's contract: what a question goes in as, what comes out (whole or as stream
 * events), and the service interface the server, the CLIs and the evaluation hold. Wrappers
 * (qa/cache.ts, server/metrics.ts) implement the same interface through qa/wrap.ts.
 */
import type { AnswerDiagnostics } from '../answer/extractive.js';
import type { Citation } from '../domain/answer.js';
import type { AnswerChecks } from '../answer/grounded.js';
import type { AnswerReason, AnswerStatus } from '../domain/answer.js';
import type { CommitmentBook } from '../commitments/book.js';
import type { IndexSnapshot } from '../store/index-store.js';
import type { HistoryTurn } from '../retrieve/follow-up.js';
import type { IndexContext } from '../retrieve/context.js';
import type { ReportRetriever } from '../retrieve/langchain-retriever.js';
import type { DocumentMeta, Passage, SearchFilters } from '../domain/types.js';

export interface AskInput {
  question: string;
  topK?: number;
  filters?: SearchFilters;
  /** Earlier turns of the conversation, oldest first: the question may be a follow-up to them. */
  history?: HistoryTurn[];
  /**
   * Whether a configured LLM may phrase the answer. Default true. Internal callers that only need
   * to know whether the reports answer a question (suggestions, evaluation) pass false.
   */
  useLlm?: boolean;
}

export interface AskOutput {
  answer: string;
  /** True exactly when status is `answered` (kept for clients written before status). */
  found: boolean;
  /** answered | partial | not_found (see status.ts). */
  status: AnswerStatus;
  /** Why the question was not answered; absent when answered. */
  reason?: AnswerReason;
  /** `llm`: phrased by the model and checked against the passages; `extractive`: quoted from them. */
  mode: 'extractive' | 'llm';
  citations: Citation[];
  /** Which grounding checks ran on a generated answer and how they came out (see grounded.ts). */
  checks: AnswerChecks;
  /** The standalone question that was searched, when the request carried history. */
  rewrittenQuestion?: string;
  tookMs: number;
}

/**
 * What the streaming variant of ask emits, in order: `meta` once (citations are known before the
 * text), `delta` pieces of answer text, possibly `replace` (the text so far is superseded, e.g.
 * by a fallback answer), and `done` with the whole response, which is final.
 */
export type AskStreamEvent =
  | { type: 'meta'; found: boolean; status: AnswerStatus; reason?: AnswerReason; mode: AskOutput['mode']; citations: Citation[]; rewrittenQuestion?: string }
  | { type: 'delta'; text: string }
  | { type: 'replace'; text: string }
  | { type: 'done'; response: AskOutput };

/** A document as listed: its metadata and chunk count. */
export interface DocumentSummary extends DocumentMeta {
  chunks: number;
}

/** One document whole, as GET /api/documents/:docId returns it: its outline and cleaned text too. */
export interface DocumentView extends DocumentSummary {
  sections: Array<{ heading: string; path: string[]; role: string; years: number[]; start: number; end: number }>;
  text: string;
}

/** Cumulative counts of an answer cache (qa/cache.ts), since its service was built. */
export interface CacheStats {
  hits: number;
  misses: number;
  size: number;
  capacity: number;
}

export interface QaService {
  readonly indexVersion: string;
  readonly embeddingModel: string;
  readonly towns: readonly string[];
  /** The generation's read context (its snapshot, documents, towns), for features built beside the answers (src/drafting). */
  readonly index: IndexContext;
  ask(input: AskInput): Promise<AskOutput & { diagnostics: AnswerDiagnostics }>;
  /** The same answer as ask(), as events for a progressive display (server-sent events). */
  askStream(input: AskInput): AsyncGenerator<AskStreamEvent>;
  search(query: string, k: number, filters?: SearchFilters): Promise<{ results: Passage[]; tookMs: number }>;
  listDocuments(): DocumentSummary[];
  /** A document's summary (metadata, chunk count), at hand. */
  documentSummary(docId: string): DocumentSummary | undefined;
  /** A document with its outline and text, read from the store (the service keeps neither). */
  getDocument(docId: string): Promise<DocumentView | undefined>;
  stats(): { documents: number; chunks: number };
  /** The same retrieval as a LangChain retriever (LangChain loaded on first use). */
  asRetriever(options?: { k?: number; filters?: SearchFilters }): Promise<ReportRetriever>;
  /**
   * Commitments of the plan sections with their follow-up (src/commitments), of these towns or of
   * all: computed at ingest, read on first use, kept while they fit (CommitmentBookReader).
   */
  commitments(towns?: readonly string[]): Promise<CommitmentBook>;
  /** Records ingest derived for this generation (IndexSnapshot.getDerived), e.g. 'suggestions'. */
  getDerived: IndexSnapshot['getDerived'];
  /** The answer cache's counts when the service is wrapped in one (qa/cache.ts), else undefined. */
  cacheStats(): CacheStats | undefined;
}
