/**
 * The three outcomes of a question, shown plainly to every client (widget, staff page, OpenAI
 * API): `answered` (the reports settle it), `partial` (a relevant passage that does not settle
 * it: the answer says what the reports hold and what they leave open) and `not_found`. `reason`
 * says why a question was not answered; `found` stays in the contract and is true only for
 * `answered`.
 */

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

/** Short Chinese labels of the reasons, for clients that show them beside the answer. */
export const REASON_LABELS: Readonly<Record<AnswerReason, string>> = Object.freeze({
  'other-town': '只有其他镇的数据',
  'other-year': '只有其他年份的数据',
  'plan-only': '只有目标,没有完成情况',
  'result-only': '只有完成情况,没有目标',
  'no-figure': '有相关内容,但没有所问的数字',
  'not-mentioned': '报告未提及',
  'low-confidence': '没有足够依据',
});

/** Labels of the statuses (zh). */
export const STATUS_LABELS: Readonly<Record<AnswerStatus, string>> = Object.freeze({
  answered: '已回答',
  partial: '部分回答',
  not_found: '未找到依据',
});

/** The status/reason pair of a response. */
export interface AnswerOutcome {
  status: AnswerStatus;
  /** Present exactly when status is not `answered`. */
  reason?: AnswerReason;
}
