/**
 * Question understanding without a model: which town and year a question names, and whether it
 * asks about a plan (计划/将/目标/下半年) or a result (完成了/上半年/去年).
 */
import type { Role } from '../types.js';
import { yearsIn } from '../corpus/structure.js';

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

/** Place names: a 2-3 character stem before 镇/街道/乡, minus common nouns (城镇, 乡镇, 全镇 …). */
const PLACE = /([\u4e00-\u9fff]{2,3}?)(镇街道|街道|镇|乡)/g;
const NOT_A_PLACE = /^(全|本|各|该|我|乡|城|小|大|新|集|古|重|建|市|县|区|的|在|和|与|及|个|为|里|上|那|这|哪|每|村)/;

function aliasesOf(town: string): string[] {
  const stem = town.replace(/(镇街道|街道|镇|乡)$/, '');
  const aliases = new Set([town, stem, town.replace(/街道$/, '')]);
  return [...aliases].filter((a) => a.length >= 2).sort((a, b) => b.length - a.length);
}

/**
 * The question without the town and year it names: what it asks about. Sentences are scored
 * against this, since almost any sentence of the right report shares the town and year.
 */
export function focusOf(question: string, towns: readonly string[]): string {
  let focus = question.normalize('NFKC');
  for (const town of towns) for (const alias of aliasesOf(town)) focus = focus.split(alias).join('');
  focus = focus.replace(/(19|20)\d{2}年/g, '').replace(/^[\s,,:的在]+/, '');
  return focus.trim() || question;
}

/** Reads town, year and plan/result intent from a question, given the corpus' towns. */
export function analyzeQuery(question: string, knownTowns: readonly string[]): QueryAnalysis {
  const text = question.normalize('NFKC');
  const towns = knownTowns.filter((town) => aliasesOf(town).some((alias) => text.includes(alias)));
  let unknownPlace: string | undefined;
  if (towns.length === 0) {
    for (const m of text.matchAll(PLACE)) {
      const stem = m[1]!;
      if (NOT_A_PLACE.test(stem) || /[的了在和与是有么]/.test(stem)) continue;
      const name = stem + m[2]!;
      if (!knownTowns.some((t) => t.includes(stem) || name.includes(t))) unknownPlace = name;
      break;
    }
  }
  const plan = text.match(PLAN_INTENT)?.length ?? 0;
  const review = text.match(REVIEW_INTENT)?.length ?? 0;
  const role = plan > review ? 'plan' : review > plan ? 'review' : undefined;
  return { towns, ...(unknownPlace ? { unknownPlace } : {}), years: yearsIn(text), ...(role ? { role } : {}) };
}
