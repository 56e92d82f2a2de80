/**
 * The answer as every client receives it (the HTTP contract's `Answer` and `Citation`), and its
 * three outcomes, shown plainly to every client (widget, staff page, OpenAI API): `answered` (the
 * reports settle it), `partial` (a relevant passage that does not settle it: the answer says what
 * the reports hold and what they leave open) and `not_found`. `reason` says why a question was
 * not answered; `found` stays in the contract and is true only for `answered`. Shared by every
 * stage that composes or serves answers (the extractive composer, the commitment answers, the
 * server), so it sits below all of them. Labels of statuses and reasons: labels.ts.
 */
import type { Passage } from './types.js';

export type AnswerStatus = 'answered' | 'partial' | 'not_found';

/**
 * Why a question was not answered:
 * - `other-town`: the reports answer it only for another town (or the town has no report);
 * - `other-year`: only for another year (or no report covers the year asked);
 * - `plan-only`: the result was asked, the reports hold only the target;
 * - `result-only`: the plan was asked, the reports hold only the outcome;
 * - `no-figure`: the topic is there, the figure asked for is not;
 * - `not-mentioned`: the reports do not mention the subject;
 * - `low-confidence`: a passage comes close, but not close enough to quote as the answer.
 */
export type AnswerReason = 'other-town' | 'other-year' | 'plan-only' | 'result-only' | 'no-figure' | 'not-mentioned' | 'low-confidence';

export const ANSWER_STATUSES: readonly AnswerStatus[] = ['answered', 'partial', 'not_found'];
export const ANSWER_REASONS: readonly AnswerReason[] = ['other-town', 'other-year', 'plan-only', 'result-only', 'no-figure', 'not-mentioned', 'low-confidence'];

/** The status/reason pair of a response. */
export interface AnswerOutcome {
  status: AnswerStatus;
  /** Present exactly when status is not `answered`. */
  reason?: AnswerReason;
}

/** A passage as an answer cites it: numbered as its `[n]` markers, with the quoted sentence. */
export interface Citation extends Passage {
  n: number;
  /** Where the quoted sentence sits in the passage (offsets into the document, like start/end). */
  quote?: { start: number; end: number };
}

/**
 * Why an answer is what it is, for evaluation and logs (not part of the HTTP contract). The
 * extractive composer adds what it weighed (AnswerDiagnostics in answer/extractive.ts).
 */
export interface CoreDiagnostics {
  /** IDF-weighted share of the question's terms found in the chosen sentences, 0-1. */
  coverage: number;
  /** IDF-weighted share of the question's terms that the corpus has, but not for the town asked about. */
  missing: number;
  /** Best cosine similarity between question and a passage. */
  topDense: number;
  /** Cosine similarity between question and the best quoted sentence. */
  sentenceDense: number;
  /** Probability (decision model) of the candidate the outcome rests on. */
  confidence: number;
  /** 'cached': served from the answer cache, whose entries keep only the public response. */
  reason: 'answered' | 'partial' | 'low-confidence' | 'not-mentioned' | 'unknown-place' | 'year-not-covered' | 'no-passages' | 'cached';
}

export interface Answer<Diagnostics extends CoreDiagnostics = CoreDiagnostics> {
  answer: string;
  /** True exactly when status is `answered`. */
  found: boolean;
  status: AnswerStatus;
  /** Why the question was not answered (absent when answered). */
  reason?: AnswerReason;
  mode: 'extractive';
  citations: Citation[];
  diagnostics: Diagnostics;
}
