/**
 * The question-answering service: one object holding the loaded index and the embedder, used
 * alike by the HTTP server, the CLI and the evaluation, so all three follow one code path.
 */
import type { Embedder } from '../embed/embedder.js';
import { AppError } from '../errors.js';
import type { LoadedIndex } from '../index/store.js';
import { makeSearchable, retrieve, type SearchableIndex } from '../retrieve/hybrid.js';
import { ReportRetriever } from '../retrieve/langchain-retriever.js';
import type { DocumentMeta, Passage, SearchFilters } from '../domain/types.js';
import { candidatesOf, composeExtractiveAnswer, questionOf, type AnswerDiagnostics, type Candidate } from './extractive.js';
import { parseModel, type DecisionModel } from './decision.js';
import weightsJson from './decision-weights.json' with { type: 'json' };
import { CHECKS_OFF, CHECKS_SKIPPED, generateGroundedAnswer, runGroundedAnswer, settleAnswer, standaloneQuestion, type AnswerChecks } from './grounded.js';
import type { LlmClient } from './llm.js';
import type { AnswerOutcome, AnswerReason, AnswerStatus, Citation } from '../domain/answer.js';
import type { HistoryTurn } from '../retrieve/follow-up.js';
import { answerCommitmentQuestion } from '../commitments/answer.js';
import { buildCommitmentBook, type CommitmentBook } from '../commitments/book.js';

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

/** Splits an extractive answer after each citation marker, so it can be streamed quote by quote. */
export function answerPieces(answer: string): string[] {
  return answer.split(/(?<=\]|\][;。])(?=[^;。\]])/).filter(Boolean);
}

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

/** Longest standalone question accepted from the model's rewrite of a follow-up, in characters. */
const REWRITE_MAX_CHARS = 300;
/** A follow-up rewrite is a short call: when the model takes longer, the rules take over. */
const REWRITE_TIMEOUT_MS = 8000;

export interface DocumentSummary extends DocumentMeta {
  chunks: number;
  sections: Array<{ heading: string; path: string[]; role: string; years: number[]; start: number; end: number }>;
}

export interface QaService {
  readonly indexVersion: string;
  readonly embeddingModel: string;
  readonly towns: readonly string[];
  /** The loaded index with retrieval's lookups, read-only, for features built beside the answers (src/drafting). */
  readonly searchable: SearchableIndex;
  ask(input: AskInput): Promise<AskOutput & { diagnostics: AnswerDiagnostics }>;
  /** The same answer as ask(), as events for a progressive display (server-sent events). */
  askStream(input: AskInput): AsyncGenerator<AskStreamEvent>;
  search(query: string, k: number, filters?: SearchFilters): Promise<{ results: Passage[]; tookMs: number }>;
  listDocuments(): DocumentSummary[];
  getDocument(docId: string): (DocumentSummary & { text: string }) | undefined;
  stats(): { documents: number; chunks: number };
  /** The same retrieval as a LangChain retriever. */
  asRetriever(options?: { k?: number; filters?: SearchFilters }): ReportRetriever;
  /** Commitments of the plan sections with their follow-up (src/commitments): built on first use, then kept. */
  commitments(): Promise<CommitmentBook>;
}

/**
 * The status of a settled answer: the extractive one's, unless a model's reply changed whether
 * the question is answered (a model that declines leaves it not found, for lack of confidence).
 */
export function outcomeOf(extractive: AnswerOutcome & { found: boolean }, found: boolean): AnswerOutcome {
  if (found) return { status: 'answered' };
  if (!extractive.found) return { status: extractive.status, ...(extractive.reason ? { reason: extractive.reason } : {}) };
  return { status: 'not_found', reason: 'low-confidence' };
}

/** The committed answer/abstain model (fitted by `npm run calibrate`). */
export const DECISION_MODEL: DecisionModel = parseModel(weightsJson);

/** The probability threshold fitted with the committed model. */
export const DEFAULT_THRESHOLD: number = DECISION_MODEL.threshold;

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

  const llm = options.llm;
  // A follow-up carries a year only to a town whose reports cover it (mentioning it is not enough).
  const yearsOf = (town: string): readonly number[] => searchable.coveredYears.get(town) ?? [];
  const model = options.model ?? DECISION_MODEL;
  let book: Promise<CommitmentBook> | undefined;
  const commitments = (): Promise<CommitmentBook> => (book ??= buildCommitmentBook(index, embedder).catch((err: unknown) => ((book = undefined), Promise.reject(err))));
  /** The follow-up made standalone, its passages retrieved and the extractive answer composed. */
  const prepare = async (input: AskInput) => {
    checkFilters(input.filters);
    const llm = input.useLlm === false ? undefined : options.llm;
    const searched = await standaloneQuestion(input.question, input.history ?? [], { llm, knownTowns: searchable.towns, maxChars: REWRITE_MAX_CHARS, timeoutMs: REWRITE_TIMEOUT_MS, yearsOf, reportYearOf: (t) => searchable.reportYears.get(t), ...(input.filters?.town ? { town: input.filters.town } : {}) });
    // A question for a list of promises, or for one promise's outcome, is answered from the commitment book.
    const listed = await answerCommitmentQuestion(searched.question, input.filters, commitments, searchable);
    if (listed) return { searched, answer: listed };
    const topK = input.topK ?? options.defaultTopK;
    const retrieval = await retrieve(searchable, embedder, searched.question, { topK, ...(input.filters ? { filters: input.filters } : {}) });
    const compose = { model, ...(options.threshold !== undefined ? { threshold: options.threshold } : {}) };
    let answer = composeExtractiveAnswer(searchable, retrieval, compose);
    // A question about some towns: do other towns' reports answer it far more closely? Then the
    // asked towns' best sentence is about something else (a figure that exists only elsewhere),
    // and the answer says which town has it. One more retrieval, over all towns.
    if (retrieval.scopeTowns.length > 0 && answer.diagnostics.candidates) {
      const wider = await retrieve(searchable, embedder, searched.question, { topK, useHints: false, ...(input.filters?.role ? { filters: { role: input.filters.role } } : {}) });
      const question = questionOf(searchable, retrieval);
      const probes: Candidate[] = candidatesOf(searchable, wider, { ...question, towns: [] }, model, { excludeTowns: retrieval.scopeTowns });
      if (probes.length > 0) {
        answer = composeExtractiveAnswer(searchable, retrieval, compose, { probes });
      }
    }
    return { searched, llm, answer };
  };
  const rewrittenOf = (input: AskInput, question: string): { rewrittenQuestion?: string } =>
    input.history && input.history.length > 0 ? { rewrittenQuestion: question } : {};

  return {
    indexVersion: index.manifest.indexVersion,
    embeddingModel: index.manifest.embeddingModel,
    towns: searchable.towns,
    searchable,

    async ask(input) {
      const started = performance.now();
      const { searched, llm, answer } = await prepare(input);
      const { diagnostics, ...extractive } = answer;
      const settled =
        !llm ? { ...extractive, checks: options.llm ? CHECKS_SKIPPED : CHECKS_OFF }
        : !answer.found ? { ...extractive, checks: CHECKS_SKIPPED }
        : settleAnswer(answer, await runGroundedAnswer({ llm, question: searched.question, citations: answer.citations, knownTowns: searchable.towns }));
      return { ...settled, ...outcomeOf(answer, settled.found), ...rewrittenOf(input, searched.question), diagnostics, tookMs: Math.round(performance.now() - started) };
    },

    async *askStream(input) {
      const started = performance.now();
      const { searched, llm, answer } = await prepare(input);
      const { diagnostics: _diagnostics, ...extractive } = answer;
      const rewritten = rewrittenOf(input, searched.question);
      if (!llm || !answer.found) {
        const response: AskOutput = { ...extractive, checks: options.llm ? CHECKS_SKIPPED : CHECKS_OFF, ...rewritten, tookMs: Math.round(performance.now() - started) };
        yield { type: 'meta', found: response.found, ...outcomeOf(answer, response.found), mode: response.mode, citations: response.citations, ...rewritten };
        for (const text of answerPieces(response.answer)) yield { type: 'delta', text };
        yield { type: 'done', response };
        return;
      }
      // The model's tokens as they come; if the final checks fail, `replace` swaps in the fallback.
      yield { type: 'meta', found: true, status: 'answered', mode: 'llm', citations: answer.citations.map(({ quote: _quote, ...c }) => c), ...rewritten };
      const abort = new AbortController();
      const generation = generateGroundedAnswer({ llm, question: searched.question, citations: answer.citations, knownTowns: searchable.towns, stream: true, signal: abort.signal });
      try {
        let shown = '';
        let step = await generation.next();
        while (!step.done) {
          shown += step.value;
          yield { type: 'delta', text: step.value };
          step = await generation.next();
        }
        const settled = settleAnswer(answer, step.value);
        const response: AskOutput = { ...settled, ...outcomeOf(answer, settled.found), ...rewritten, tookMs: Math.round(performance.now() - started) };
        if (shown === '') for (const text of answerPieces(response.answer)) yield { type: 'delta', text };
        else if (response.answer !== shown) yield { type: 'replace', text: response.answer };
        yield { type: 'done', response };
      } finally {
        // A client that went away stops the model too.
        abort.abort();
        await generation.return(undefined as never);
      }
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

    commitments,
  };
}
