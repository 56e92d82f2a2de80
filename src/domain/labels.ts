/**
 * The Chinese words every client shows for the codes of the contract: a section's role, an
 * answer's status and reason, a commitment's follow-up status. One map each, used by the server,
 * the CLIs and (served by src/server/labels-asset.ts) the widget and the pages, so a status reads
 * the same wherever it is shown.
 */
import type { AnswerReason, AnswerStatus } from './answer.js';
import type { FollowUpStatus } from './commitment.js';
import type { Role } from './types.js';

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
