/**
 * Question annotations: what a question asks, read with the same vocabulary as report sentences
 * (sentence.ts) so the answer step can check one against the other: the towns it names, the
 * period (year, 上半年/下半年/全年, 今年/去年 against the report's date), whether it asks about a
 * plan or a result, the kind of figure it wants (a count with its measure word, money, area, a
 * rate, a date) and the indicator that figure is about. Pure: it segments with the segmenter it
 * is given (a server passes its index's tokenizer's; text/jieba.ts) and reads jieba's general
 * IDF table.
 *
 *   annotateQuestion(question, { knownTowns, segmenter, reportYearOf? }): QuestionAnnotation
 */
import { yearsIn } from '../corpus/structure.js';
import { placeRuns, townAliases, townsNamed } from '../domain/towns.js';
import { generalIdfTable, type Segmenter } from '../text/jieba.js';
import type { FigureKind, Half } from './sentence.js';

/** What a question asks for when it asks for a figure; `figure` is any figure (多少 alone). */
export type AskedKind = FigureKind | 'figure';

export interface QuestionAnnotation {
  /** Towns of the corpus the question names (full name or alias: 梅李 for 梅李镇). */
  towns: string[];
  /** A place the question names, standing as a word, that no report is about (周庄镇). */
  unknownPlace?: string;
  period: {
    years: number[];
    half?: Half;
    /** The question said 今年/去年/明年 (resolved into years when the town's report date is known). */
    relative?: string;
  };
  /** `target`: asks what was planned (计划/目标/要/将); `outcome`: what was done (完成了/实际/已经). */
  stance?: 'target' | 'outcome';
  /** The figure the question wants, when it wants one. */
  asks?: { kind: AskedKind; measure?: string };
  /** Asks when (什么时候/何时/多久/哪一年): a deadline answers it. */
  deadline: boolean;
  /** Asks for a list of promises (有哪些承诺/目标/计划/任务). */
  list: boolean;
  /** What the question is about once town, period, stance and asking words are gone (地区生产总值). */
  indicator: string;
}

export interface QuestionContext {
  knownTowns: readonly string[];
  /**
   * Cuts the question into words (does a place name stand as a word; which nouns it names). The
   * index's, with the corpus' words kept whole: a noun the general IDF table lacks (千村美居) is
   * not a topic either way, and the bank's out-of-fold figures were the same with the general
   * dictionary alone (docs/benchmarks.md).
   */
  segmenter: Segmenter;
  /** Year of the latest report of a town: 今年/去年 are read against it. */
  reportYearOf?: (town: string) => number | undefined;
}

/** Word boundaries of a text, as the set of offsets where a word starts or ends. */
function boundaries(text: string, segmenter: Segmenter): Set<number> {
  const cuts = new Set<number>([0]);
  let at = 0;
  for (const word of segmenter.cut(text, false)) {
    at += word.length;
    cuts.add(at);
  }
  return cuts;
}

/**
 * A place the question names that is not one of the corpus' towns: a place-shaped run that
 * stands as a word (its start and end fall on word boundaries), so 特色田园乡村 names no 田园乡.
 */
export function unknownPlaceIn(text: string, knownTowns: readonly string[], segmenter: Segmenter): string | undefined {
  let cuts: Set<number> | undefined;
  for (const { name, stem, index } of placeRuns(text)) {
    if (knownTowns.some((t) => t.includes(stem) || name.includes(t))) continue;
    cuts ??= boundaries(text, segmenter);
    if (!cuts.has(index) || !cuts.has(index + name.length)) continue;
    return name;
  }
  return undefined;
}

const TARGET_WORDS = /计划|打算|目标|将要|准备|力争|确保|承诺|预期|要(完成|建成|新增|实现|推进|开展|对|做|达到|建|改造|整治|完成)|还要|将(?!近)|拟|下半年|明年/;
const OUTCOME_WORDS = /完成了|实现了|实际|已经|已(?!有)|取得|获得|获评|成效|累计|共计|一共|(了)(多少|几|哪|什么)|有没有(完成|实现)|去年|过去一年|最终|最后|到底|结果|(了|过)(吗|没有|没)[??]?$|了没有/;
/** Words that ask about the outcome whatever else the question says (下半年实际完成了多少). */
const STRONG_OUTCOME = /实际|最终|最后|到底|已经|完成了|实现了|建成了|(了|过)(吗|没有|没)[??]?$|了没有/;

/** Measure words a count question names: 多少家, 几个. */
const MEASURE = '个|家|条|项|套|处|所|座|名|人|户|起|次|件|批|场|台|辆|本|类|轮|间|栋|盏|张|支|位|只|艘|篇|门|村|家次|人次|场次';
const COUNT_ASK = new RegExp(`(?:多少|几)(${MEASURE})`);

/** The kind of figure a question asks for. */
function askedKind(q: string): QuestionAnnotation['asks'] {
  // 第几期, 排第几: an ordinal names a thing, it is no quantity.
  if (/第几|哪几/.test(q)) return undefined;
  // Two figures asked at once (收入和增幅, 宗数和面积, 多少起…罚了多少钱): any figure of them will do.
  if ((q.match(/多少|几(?![月号点时乎])/g)?.length ?? 0) >= 2 || /(和|及|与|以及)(增幅|增速|面积|金额|数量|比例|增长)/.test(q)) return { kind: 'figure' };
  // 经费下降了多少, 增长多少: a change is a rate, whatever it is of.
  if (/(增长|下降|增幅|降幅|提高|减少|增加)(了)?(多少|几)(?![个家条项套处所座名人户起次件批场台辆本类万亿元亩])/.test(q)) return { kind: 'rate' };
  if (/多少钱|金额|多少元|多少万元|多少亿|资金|经费|收入|产值|总值|预算|贷款|补贴|投资(额)?(是|有|达到|完成)?多少|GDP/.test(q) && /多少|几|多大/.test(q)) return { kind: 'money' };
  if (/多少亩|面积|多少平方|多少公顷|多大(面积)?/.test(q)) return { kind: 'area' };
  if (/多少公里|多长|多少米/.test(q)) return { kind: 'length' };
  if (/比例|比率|占比|百分之|百分比|多少%|[率].{0,4}多少|增幅|增速|增长(了)?(多少|几)/.test(q)) return { kind: 'rate' };
  if (/多少(小时|天|分钟|个工作日)/.test(q)) return { kind: 'duration' };
  const count = q.match(COUNT_ASK);
  if (count) return { kind: 'count', measure: count[1]! };
  if (/多少|几(?![乎月号点时])|多大|多高|规模|数量|是多少/.test(q)) return { kind: 'figure' };
  return undefined;
}

const DEADLINE_ASK = /什么时候|何时|多久|哪一年|哪年|几月|什么时间|截止|期限|到什么时候|哪天/;
const LIST_ASK = /(哪些|什么|几项|多少项)(承诺|计划|目标|任务|举措|打算|重点工作|实事|工作重点)|(计划|打算|准备|承诺)(要)?(做|干|办|推进|落实)(了)?(哪些|几件|什么)(事|事情|工作|实事)?|(承诺|计划|目标|任务|打算|举措)(有|是|包括)(哪些|什么)|列出.{0,12}(承诺|计划|目标|任务)/;

/** Words that ask, qualify or glue, not what the question is about. */
const NOT_INDICATOR =
  /多少[个家条项套处所座名人户起次件批场台辆本类轮间栋盏张支位只艘篇门村亩元钱]?|几[个家条项套处所座名人户起次件批场台辆本类]?|什么时候|何时|多久|哪一年|哪些|哪个|什么|是否|有没有|能不能|怎么样|如何|多大|多长|多高|计划|打算|目标|准备|力争|确保|承诺|将要|还要|要|将|已经|已|实际|完成了|实现了|一共|累计|共计|共|请问|写总结要用|呢|吗|了|的|是|有|达到|为|今年|去年|明年|前年|上半年|下半年|全年|年底|年内|镇上|镇里|[??!!。,,:\s]/g;

/** Does the (NFKC-normalised) question ask for a list of promises (有哪些承诺/目标/计划/任务)? */
export function asksForList(q: string): boolean {
  return LIST_ASK.test(q);
}

const RELATIVE: Record<string, number> = { 今年: 0, 去年: -1, 明年: 1, 前年: -2 };

/** Reads a question (see the module comment). */
export function annotateQuestion(question: string, context: QuestionContext): QuestionAnnotation {
  const q = question.normalize('NFKC');
  const towns = townsNamed(q, context.knownTowns);
  const unknownPlace = towns.length === 0 ? unknownPlaceIn(q, context.knownTowns, context.segmenter) : undefined;
  let years = yearsIn(q);
  const relative = q.match(/今年|去年|明年|前年/)?.[0];
  if (years.length === 0 && relative && towns.length > 0) {
    const base = context.reportYearOf?.(towns[0]!);
    if (base !== undefined) years = [base + RELATIVE[relative]!];
  }
  const half: Half | undefined = /上半年/.test(q) ? 'first' : /下半年/.test(q) ? 'second' : /全年/.test(q) ? 'full' : undefined;
  const target = TARGET_WORDS.test(q);
  const outcome = OUTCOME_WORDS.test(q);
  const stance = STRONG_OUTCOME.test(q) ? 'outcome' : target && !outcome ? 'target' : outcome && !target ? 'outcome' : undefined;
  let indicator = q;
  for (const town of towns) for (const alias of townAliases(town)) indicator = indicator.split(alias).join('');
  indicator = indicator.replace(/(19|20)\d{2}年/g, '').replace(NOT_INDICATOR, ' ').replace(/\s+/g, ' ').trim();
  const asks = askedKind(q);
  return {
    towns,
    ...(unknownPlace ? { unknownPlace } : {}),
    period: { years, ...(half ? { half } : {}), ...(relative ? { relative } : {}) },
    ...(stance ? { stance } : {}),
    ...(asks ? { asks } : {}),
    deadline: DEADLINE_ASK.test(q),
    list: asksForList(q),
    indicator,
  };
}

/** A noun a question is about, with how specific it is in general Chinese (jieba's IDF table). */
export interface Topic {
  word: string;
  /** jieba's general-language IDF: 时候/方面/地方 about 4.3, 护照/游泳馆 10 and more. */
  specificity: number;
}

/** Lines of the IDF table read between two turns of the event loop by prepareQuestionReader. */
const IDF_LINES_PER_SLICE = 20_000;

/** jieba's IDF table: a general-language measure, nothing tuned to this corpus. */
function generalSpecificity(word: string): number | undefined {
  const table = generalIdfTable();
  if (!table.complete) table.read();
  return table.get(word);
}

/**
 * Builds what annotateQuestion reads on first use (jieba's IDF table; about a hundred ms) a slice
 * at a time with the event loop running between slices: a server calls it before it answers, so
 * its first question does not hold the loop for it. (The segmenter is the index's, built with it.)
 */
export async function prepareQuestionReader(): Promise<void> {
  const table = generalIdfTable();
  while (!table.complete) {
    table.read(IDF_LINES_PER_SLICE);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * The nouns of a question's indicator (what is left once town, period, stance and asking words are
 * gone) that jieba's general dictionary lists, each with its general specificity.
 */
export function topicsOf(indicator: string, segmenter: Segmenter): Topic[] {
  const out: Topic[] = [];
  for (const { word, tag } of segmenter.tag(indicator, true)) {
    if (word.length < 2 || !/^(n|nz|nt|nw|ng)$/.test(tag) || !/^[\u4e00-\u9fff]+$/.test(word)) continue;
    // A run jieba's table lacks is a segmenter's guess (交上, 当过兵), not a dictionary noun.
    const specificity = generalSpecificity(word);
    if (specificity === undefined || out.some((t) => t.word === word)) continue;
    out.push({ word, specificity });
  }
  return out;
}
