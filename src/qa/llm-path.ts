/**
 * The LLM path of a question: when a model may phrase the answer and the passages support one,
 * the model writes it from them and the grounding checks (answer/grounded.ts) judge it; otherwise,
 * or when it fails them, the extractive answer stands. The response's status follows.
 */
import type { Answer } from '../answer/extractive.js';
import { CHECKS_OFF, CHECKS_SKIPPED, runGroundedAnswer, settleAnswer, type AnswerChecks, type SettledAnswer } from '../answer/grounded.js';
import type { LlmClient } from '../answer/llm.js';
import type { AnswerOutcome } from '../domain/answer.js';

/** Which model, if any, takes part in one question. */
export interface LlmUse {
  /** The model that may phrase this answer (undefined: none configured, or the caller said useLlm false). */
  llm: LlmClient | undefined;
  /** Whether a model is configured at all: an answer without it then says `skipped` rather than `off`. */
  configured: boolean;
}

/** The model for a request: the configured one, unless the caller only wants the extractive answer. */
export function llmUseOf(configured: LlmClient | undefined, useLlm: boolean | undefined): LlmUse {
  return { llm: useLlm === false ? undefined : configured, configured: configured !== undefined };
}

/** The checks of an answer the model was not asked for. */
export function checksWithoutModel(use: Pick<LlmUse, 'configured'>): AnswerChecks {
  return use.configured ? CHECKS_SKIPPED : CHECKS_OFF;
}

/** Whether the model is asked: one may answer, and the passages support an answer. */
export function asksModel(use: LlmUse, answer: Pick<Answer, 'found'>): use is LlmUse & { llm: LlmClient } {
  return use.llm !== undefined && answer.found;
}

/**
 * The answer as settled without streaming: the extractive one when no model is asked, else the
 * model's when it passes the checks, else the extractive one with the reason it stands. The
 * extractive answer keeps its status; a model's does not carry one (see outcomeOf).
 */
export async function settleWithModel(
  answer: Answer,
  use: LlmUse,
  question: string,
  knownTowns: readonly string[],
): Promise<SettledAnswer & Partial<AnswerOutcome>> {
  const { diagnostics: _diagnostics, ...extractive } = answer;
  if (!use.llm) return { ...extractive, checks: checksWithoutModel(use) };
  if (!answer.found) return { ...extractive, checks: CHECKS_SKIPPED };
  return settleAnswer(answer, await runGroundedAnswer({ llm: use.llm, question, citations: answer.citations, knownTowns }));
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
