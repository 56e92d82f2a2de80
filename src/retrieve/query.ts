/**
 * Question understanding without a model: which town and year a question names, and whether it
 * asks about a plan (计划/将/目标/下半年) or a result (完成了/上半年/去年).
 */
import type { Role } from '../domain/types.js';
import { yearsIn } from '../corpus/structure.js';
import { unknownPlaceIn } from '../annotate/question.js';
import type { Segmenter } from '../text/jieba.js';
import { townAliases, townsNamed } from '../domain/towns.js';

export interface QueryAnalysis {
  /** Towns of the corpus the question names (full name or stem: 梅李 for 梅李镇). */
  towns: string[];
  /** A place the question names that no report in the corpus is about. */
  unknownPlace?: string;
  years: number[];
  /** The kind of section the wording asks about, when it is clear. */
  role?: Exclude<Role, 'other'>;
}

const PLAN_INTENT = /计划|打算|将要|准备|目标|任务|下半年|明年|还要|要(完成|建成|新增|实现|推进|开展|对|做)|力争|预计|承诺|部署|什么时候(竣工|完成|建成)/g;
const REVIEW_INTENT = /完成了|实现了|取得|成效|成绩|获得|获评|荣誉|已经|上半年|去年|过去一年|累计|共计|了多少|了哪|了什么|有没有/g;

/**
 * The question without the town and year it names: what it asks about. Sentences are scored
 * against this, since almost any sentence of the right report shares the town and year.
 */
export function focusOf(question: string, towns: readonly string[]): string {
  let focus = question.normalize('NFKC');
  for (const town of towns) for (const alias of townAliases(town)) focus = focus.split(alias).join('');
  focus = focus.replace(/(19|20)\d{2}年/g, '').replace(/^[\s,,:的在]+/, '');
  return focus.trim() || question;
}

/** Reads town, year and plan/result intent from a question, given the corpus' towns and a segmenter (QuestionContext). */
export function analyzeQuery(question: string, knownTowns: readonly string[], segmenter: Segmenter): QueryAnalysis {
  const text = question.normalize('NFKC');
  const towns = townsNamed(text, knownTowns);
  // A place only when it stands as a word: 特色田园乡村 names no town 田园乡.
  const unknownPlace = towns.length === 0 ? unknownPlaceIn(text, knownTowns, segmenter) : undefined;
  const plan = text.match(PLAN_INTENT)?.length ?? 0;
  const review = text.match(REVIEW_INTENT)?.length ?? 0;
  const role = plan > review ? 'plan' : review > plan ? 'review' : undefined;
  return { towns, ...(unknownPlace ? { unknownPlace } : {}), years: yearsIn(text), ...(role ? { role } : {}) };
}
