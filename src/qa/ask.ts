/**
 * One question, start to end, in one place: filters checked, a follow-up made standalone, then
 * either the commitment book answers (a list of promises, a promise's outcome) or retrieval and
 * the extractive composer do; a model may then phrase the answer (llm-path.ts), whole or
 * streamed (stream.ts). Each step is its own unit; this file only puts them in order.
 */
import type { AnswerDiagnostics, ExtractiveOptions } from '../answer/extractive.js';
import type { LlmClient } from '../answer/llm.js';
import { answerFromRetrieval } from '../answer/retrieved.js';
import type { CommitmentBookReader } from '../commitments/book.js';
import type { Embedder } from '../embed/embedder.js';
import type { IndexContext } from '../retrieve/context.js';
import { nextTurn } from '../turns.js';
import { routeToCommitments } from './commitment-routing.js';
import { checkFilters, type FilterScope } from './filters.js';
import { llmUseOf, outcomeOf, settleWithModel } from './llm-path.js';
import { rewrittenOf, searchedQuestion, type RewriteScope } from './rewrite.js';
import { streamPrepared, type PreparedQuestion } from './stream.js';
import type { AskInput, AskOutput, AskStreamEvent } from './types.js';

/** What answering a question needs, built once per service (qa/service.ts). */
export interface QuestionContext {
  index: IndexContext;
  embedder: Embedder;
  /** Passages cited when a request names no topK. */
  defaultTopK: number;
  /** The composer's decision model and threshold. */
  compose: ExtractiveOptions;
  /** The configured LLM, if any. */
  llm: LlmClient | undefined;
  filterScope: FilterScope;
  rewriteScope: RewriteScope;
  /** The commitment book, read on first need, a town at a time. */
  commitments: CommitmentBookReader;
}

/** Everything up to the model's part: the standalone question and its extractive (or commitment) answer. */
export async function prepareQuestion(input: AskInput, ctx: QuestionContext): Promise<PreparedQuestion> {
  const started = performance.now();
  await nextTurn();
  checkFilters(input.filters, ctx.filterScope);
  const use = llmUseOf(ctx.llm, input.useLlm);
  const searched = await searchedQuestion(input, ctx.rewriteScope, use.llm);
  const prepared = { question: searched.question, use, rewritten: rewrittenOf(input, searched.question), knownTowns: ctx.index.towns, started };
  // A question for a list of promises, or for one promise's outcome, is answered from the commitment book.
  const listed = await routeToCommitments(searched.question, input.filters, ctx.commitments, ctx.index);
  // The book's answers are final: no model rephrases a list read out of the reports.
  if (listed) return { ...prepared, answer: listed, use: { llm: undefined, configured: use.configured } };
  const answer = await answerFromRetrieval(ctx.index, ctx.embedder, searched.question, { topK: input.topK ?? ctx.defaultTopK, filters: input.filters, compose: ctx.compose });
  return { ...prepared, answer };
}

/** The whole answer to one question. */
export async function askQuestion(input: AskInput, ctx: QuestionContext): Promise<AskOutput & { diagnostics: AnswerDiagnostics }> {
  const prepared = await prepareQuestion(input, ctx);
  const { answer } = prepared;
  const settled = await settleWithModel(answer, prepared.use, prepared.question, prepared.knownTowns);
  return { ...settled, ...outcomeOf(answer, settled.found), ...prepared.rewritten, diagnostics: answer.diagnostics, tookMs: Math.round(performance.now() - prepared.started) };
}

/** The same answer as events (see AskStreamEvent). */
export async function* askQuestionStream(input: AskInput, ctx: QuestionContext): AsyncGenerator<AskStreamEvent> {
  yield* streamPrepared(await prepareQuestion(input, ctx));
}
