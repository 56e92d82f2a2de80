/**
 * The LLM answer path: the model phrases an answer from the numbered passages, the grounding
 * checks judge it, one retry explains what failed, and otherwise the extractive answer stands.
 * Time-outs and provider errors fall back the same way: a reader never gets an error for them.
 * Also makes follow-up questions standalone, by the model when there is one, else by rules.
 */
import { rewriteFollowUp, type HistoryTurn } from '../retrieve/follow-up.js';
import type { Citation } from '../domain/answer.js';
import type { Segmenter } from '../text/jieba.js';
import { checkGrounding, explainFailures, type CheckResult } from './grounding-checks.js';
import { buildAnswerMessages, buildRetryMessages, buildRewriteMessages, LlmError, parseRewrite, type LlmClient, type LlmFailure } from './llm.js';

/** One reply of the model and what the checks made of it. */
export interface CheckAttempt {
  attempt: number;
  passed: boolean;
  results: CheckResult[];
}

/**
 * What the response says about how its answer was checked:
 * - `off`: no LLM is configured; the answer is extractive (verbatim quotes need no checks);
 * - `skipped`: the passages do not support an answer, so the extractive abstention stands;
 * - `passed`: the model's answer passed every check (on the first attempt or the retry);
 * - `fallback`: it did not (`reason`: `checks-failed`, `timeout`, `provider-error`), and the
 *   extractive answer is given instead.
 */
export interface AnswerChecks {
  llm: 'off' | 'skipped' | 'passed' | 'fallback';
  reason?: 'checks-failed' | LlmFailure;
  attempts: CheckAttempt[];
}

export type GroundedResult =
  | { ok: true; answer: string; found: boolean; attempts: CheckAttempt[] }
  | { ok: false; reason: 'checks-failed' | LlmFailure; attempts: CheckAttempt[]; error?: LlmError };

export interface GroundedInput {
  llm: LlmClient;
  /** The (standalone) question. */
  question: string;
  /** The passages, numbered as the model will see them. */
  citations: readonly Citation[];
  /** The corpus' towns, for the town check. */
  knownTowns: readonly string[];
  /** Stream the first attempt (its pieces are yielded); the retry is never streamed. */
  stream: boolean;
  signal?: AbortSignal;
}

/**
 * Asks the model, checks the reply, retries once with the failures explained. Yields the first
 * attempt's tokens when streaming; returns the verdict. Never throws for the model's failings.
 */
export async function* generateGroundedAnswer(input: GroundedInput): AsyncGenerator<string, GroundedResult> {
  const { llm, question, citations, knownTowns } = input;
  const messages = buildAnswerMessages(question, citations);
  const attempts: CheckAttempt[] = [];
  const judge = (reply: string) => {
    const report = checkGrounding({ answer: reply, passages: citations, knownTowns });
    attempts.push({ attempt: attempts.length + 1, passed: report.passed, results: report.results });
    return report;
  };
  const call = async function* (msgs: typeof messages, stream: boolean): AsyncGenerator<string, string> {
    if (!stream) return await llm.complete(msgs, input.signal ? { signal: input.signal } : {});
    let reply = '';
    for await (const piece of llm.stream(msgs, input.signal ? { signal: input.signal } : {})) {
      // Leading blank lines would only be trimmed away later.
      const text = reply === '' ? piece.replace(/^\s+/, '') : piece;
      if (!text) continue;
      reply += text;
      yield text;
    }
    return reply;
  };

  try {
    const first = (yield* call(messages, input.stream)).trim();
    const report = judge(first);
    if (report.passed) return { ok: true, answer: first, found: !report.refusal, attempts };
    const retry = buildRetryMessages(messages, first, explainFailures(report.results));
    const second = (yield* call(retry, false)).trim();
    const again = judge(second);
    if (again.passed) return { ok: true, answer: second, found: !again.refusal, attempts };
    return { ok: false, reason: 'checks-failed', attempts };
  } catch (err) {
    const error = err instanceof LlmError ? err : new LlmError('provider-error', `llm: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    return { ok: false, reason: error.kind, attempts, error };
  }
}

/** The checks of an answer no model was asked for. */
export const CHECKS_OFF: AnswerChecks = Object.freeze({ llm: 'off', attempts: [] }) as AnswerChecks;
export const CHECKS_SKIPPED: AnswerChecks = Object.freeze({ llm: 'skipped', attempts: [] }) as AnswerChecks;

/** What a settled answer is: the model's when it passed, else the extractive one. */
export interface SettledAnswer {
  answer: string;
  found: boolean;
  mode: 'llm' | 'extractive';
  citations: Citation[];
  checks: AnswerChecks;
}

/**
 * Settles the model's result against the extractive answer: the model's text when it passed (its
 * citations without the extractive quote offsets, which no longer point at what it wrote), else
 * the extractive answer with the reason it stands.
 */
export function settleAnswer(extractive: Omit<SettledAnswer, 'checks' | 'mode'> & { mode: 'extractive' }, result: GroundedResult): SettledAnswer {
  if (result.ok) {
    return {
      answer: result.answer,
      found: result.found,
      mode: 'llm',
      citations: extractive.citations.map(({ quote: _quote, ...c }) => c),
      checks: { llm: 'passed', attempts: result.attempts },
    };
  }
  return {
    answer: extractive.answer,
    found: extractive.found,
    mode: 'extractive',
    citations: extractive.citations,
    checks: { llm: 'fallback', reason: result.reason, attempts: result.attempts },
  };
}

/** Runs the generator to its end without streaming. */
export async function runGroundedAnswer(input: Omit<GroundedInput, 'stream'>): Promise<GroundedResult> {
  const gen = generateGroundedAnswer({ ...input, stream: false });
  for (;;) {
    const step = await gen.next();
    if (step.done) return step.value;
  }
}

/** How the question that was searched came about. */
export interface StandaloneQuestion {
  question: string;
  /** `none`: no history; `rules`: carried over by follow-up.ts; `llm`: rewritten by the model. */
  by: 'none' | 'rules' | 'llm';
}

export interface StandaloneOptions {
  llm?: LlmClient | undefined;
  knownTowns: readonly string[];
  /** The index's segmenter, for reading the questions (QuestionContext.segmenter). */
  segmenter: Segmenter;
  /** Longest rewrite accepted from the model, in characters. */
  maxChars: number;
  /** Time allowed for the model's rewrite before the rules take over, in ms. */
  timeoutMs?: number;
  /** Years each town's reports cover (see FollowUpOptions). */
  yearsOf?: (town: string) => readonly number[];
  /** The request's town filter, which wins over the history (see FollowUpOptions.town). */
  town?: string;
  /** Year of each town's latest report (see FollowUpOptions.reportYearOf). */
  reportYearOf?: (town: string) => number | undefined;
}

/**
 * The question to search for: the question itself without history; with history, the model's
 * standalone rewrite when a model is configured and answers in time, else the rule-based one.
 */
export async function standaloneQuestion(question: string, history: readonly HistoryTurn[], options: StandaloneOptions): Promise<StandaloneQuestion> {
  if (history.length === 0) return { question, by: 'none' };
  if (options.llm) {
    try {
      const reply = await options.llm.complete(buildRewriteMessages(history, question), options.timeoutMs ? { timeoutMs: options.timeoutMs } : {});
      const rewritten = parseRewrite(reply, options.maxChars);
      if (rewritten) return { question: rewritten, by: 'llm' };
    } catch {
      // The rules below are the fallback; the answer path reports model failures.
    }
  }
  return {
    question: rewriteFollowUp(question, history, options.knownTowns, options.segmenter, { ...(options.yearsOf ? { yearsOf: options.yearsOf } : {}), ...(options.town ? { town: options.town } : {}), ...(options.reportYearOf ? { reportYearOf: options.reportYearOf } : {}) }).question,
    by: 'rules',
  };
}
