/**
 * Follow-up rewriting for the QA service: a question asked after earlier turns is made standalone
 * before anything is searched (by the LLM when one may answer, within a short time, else by the
 * rules of retrieve/follow-up.ts), under the request's town filter and the towns' covered years.
 */
import { standaloneQuestion, type StandaloneQuestion } from '../answer/grounded.js';
import type { LlmClient } from '../answer/llm.js';
import type { Segmenter } from '../text/jieba.js';
import type { AskInput } from './types.js';

/** Longest standalone question accepted from the model's rewrite of a follow-up, in characters. */
export const REWRITE_MAX_CHARS = 300;
/** A follow-up rewrite is a short call: when the model takes longer, the rules take over. */
export const REWRITE_TIMEOUT_MS = 8000;

/** What the rewrite knows of the corpus. */
export interface RewriteScope {
  towns: readonly string[];
  /** The index's segmenter, for reading the questions (QuestionContext.segmenter). */
  segmenter: Segmenter;
  /** Years a town's reports cover: a follow-up carries a year only to a town whose reports cover it. */
  yearsOf: (town: string) => readonly number[];
  /** Year of a town's latest report, against which 今年/去年 are read. */
  reportYearOf: (town: string) => number | undefined;
}

/** The question to search for: the input's own without history, else its standalone rewrite. */
export function searchedQuestion(input: Pick<AskInput, 'question' | 'history' | 'filters'>, scope: RewriteScope, llm: LlmClient | undefined): Promise<StandaloneQuestion> {
  return standaloneQuestion(input.question, input.history ?? [], {
    llm,
    knownTowns: scope.towns,
    segmenter: scope.segmenter,
    maxChars: REWRITE_MAX_CHARS,
    timeoutMs: REWRITE_TIMEOUT_MS,
    yearsOf: scope.yearsOf,
    reportYearOf: scope.reportYearOf,
    ...(input.filters?.town ? { town: input.filters.town } : {}),
  });
}

/** The response's `rewrittenQuestion`: present exactly when the request carried history. */
export function rewrittenOf(input: Pick<AskInput, 'history'>, question: string): { rewrittenQuestion?: string } {
  return input.history && input.history.length > 0 ? { rewrittenQuestion: question } : {};
}
