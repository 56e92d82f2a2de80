/**
 * Records of the commitments feature: what a town promised in a plan section (Commitment), what a
 * review section says was achieved (Result), and how a commitment fared in later reports (FollowUp).
 * Plain data, no behaviour.
 */
import type { Role } from './types.js';

/** The fixed topic list, in the order a town official would read it. */
export const TOPICS = [
  '经济发展',
  '科技创新',
  '城乡建设',
  '交通',
  '生态环境',
  '农业农村',
  '教育',
  '医疗卫生',
  '养老与社会保障',
  '就业',
  '文化旅游',
  '社会治理与平安',
  '安全生产',
  '政务服务',
  '党建与作风',
  '疫情防控',
  '其他',
] as const;
export type Topic = (typeof TOPICS)[number];

/**
 * How firm a commitment is: `deliverable` names an end state that is either reached or not
 * (完成, 建成, 新增, 确保, 启动); `effort` promises work in a direction (推进, 加快, 探索, 力争).
 */
export type Firmness = 'deliverable' | 'effort';

/** `min`: 以上/超/突破/不少于; `max`: 以内/以下/不超过/控制在; `about`: 左右/约. */
export type TargetQualifier = 'min' | 'max' | 'about';

/** A figure a commitment promises, or a result reports. */
export interface Target {
  /** The number as written, Chinese numerals converted (两 -> 2, 1.5万 stays 1.5 with unit 万…). */
  value: number;
  /** Upper end when the text gives a range (5-8个, 3至5家). */
  valueMax?: number;
  /** Unit as written: 个, 家, 亩, 套, %, 亿元, 万平方米 … */
  unit: string;
  /** What is counted: 安置房, 高标准农田, 化解率 … (the nearest noun phrase). */
  what: string;
  qualifier?: TargetQualifier;
  /** The figure's own text and where it sits in the document. */
  text: string;
  start: number;
  end: number;
}

/** Where a record's sentence comes from, enough to cite it like any passage. */
export interface SourceRef {
  docId: string;
  town: string;
  title: string;
  /** The report's date (YYYY-MM-DD or YYYY). */
  date: string;
  /** Heading path of the section, joined with ' > '. */
  section: string;
  role: Role;
  /** The whole sentence holding the record, and its offsets in the document's cleaned text. */
  sentence: string;
  sentenceStart: number;
  sentenceEnd: number;
  /** The chunk holding the sentence (for links to passages), when the index has it. */
  chunkId?: string;
}

export interface Commitment extends SourceRef {
  /** Stable id: `<docId>:c<sentenceStart>-<k>`. */
  id: string;
  /** The year the commitment is due: the plan section's year, or one the clause states (到2025年). */
  year: number;
  /** The clause that states the commitment, and its offsets. */
  clause: string;
  start: number;
  end: number;
  /** The verb that carries the commitment: 完成, 建成, 启动, 推进, 力争, 确保 … (目标 for a bare target list). */
  action: string;
  firmness: Firmness;
  /** What the action is applied to (the clause after the verb, without its figures' qualifiers). */
  object: string;
  targets: Target[];
  /** A deadline the text states: 年内, 9月底前, 2023年 … */
  deadline?: string;
  topic: Topic;
}

export interface Result extends SourceRef {
  /** Stable id: `<docId>:r<sentenceStart>-<k>`. */
  id: string;
  /** Years the review section covers. */
  years: number[];
  clause: string;
  start: number;
  end: number;
  /** 完成, 建成, 实现, 新增 … or '' when the clause only reports a figure. */
  action: string;
  /** True when the clause states completion (完成, 建成, 竣工, 投用, 实现, 已…). */
  completed: boolean;
  object: string;
  /** Achieved figures. */
  targets: Target[];
}

/**
 * - `met`: a later report gives a figure at or above each target, or states completion;
 * - `partly`: a later report mentions it, with a figure short of the target or without completion;
 * - `not-reported`: later reports of the town exist but none mentions it;
 * - `no-later-report`: the corpus has no later report of this town yet.
 */
export type FollowUpStatus = 'met' | 'partly' | 'not-reported' | 'no-later-report';

export const FOLLOW_UP_STATUSES: readonly FollowUpStatus[] = ['met', 'partly', 'not-reported', 'no-later-report'];

/** One target compared with what a result reports. */
export interface TargetCheck {
  target: Target;
  achieved?: Target;
  /** True when the achieved figure reaches the target (for `max` targets: stays within it). */
  reached?: boolean;
}

/** Evidence for a commitment: a later result, and why it was taken as one. */
export interface Evidence {
  result: Result;
  /** Similarity of commitment and result, 0-1. */
  score: number;
  checks: TargetCheck[];
}

export interface FollowUp {
  commitmentId: string;
  status: FollowUpStatus;
  /** Plain-language reason for the status (shown in the staff view and answers). */
  note: string;
  /** Later reports of the town that were searched. */
  laterDocIds: string[];
  /** Best evidence first; empty unless met or partly. */
  evidence: Evidence[];
}
