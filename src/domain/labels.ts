/**
 * The Chinese words every client shows for the codes of the contract: a section's role, an
 * answer's status and reason, a commitment's follow-up status. One map each, used by the server,
 * the CLIs and (served by src/server/labels-asset.ts) the widget and the pages, so a status reads
 * the same wherever it is shown.
 */
import type { AnswerReason, AnswerStatus } from './answer.js';
import type { Firmness, FollowUpStatus } from './commitment.js';
import type { Role } from './types.js';

/** What a section of a report is, as every view names it (citations, document outline, filters, exports). */
export const ROLE_LABELS: Readonly<Record<Role, string>> = Object.freeze({
  review: '工作回顾',
  plan: '工作计划',
  other: '其他',
});

/**
 * How a commitment fared in later reports. `not-reported` says where it is not mentioned (a
 * bare 未提及 reads as "the plan does not mention it").
 */
export const FOLLOW_UP_STATUS_LABELS: Readonly<Record<FollowUpStatus, string>> = Object.freeze({
  met: '已完成',
  partly: '部分完成',
  'not-reported': '后续报告未提及',
  'no-later-report': '暂无后续报告',
});

/** How firm a commitment is: an end state to deliver, or work in a direction. */
export const FIRMNESS_LABELS: Readonly<Record<Firmness, string>> = Object.freeze({
  deliverable: '交付',
  effort: '推进',
});

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
