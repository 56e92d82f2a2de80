/**
 * Follow-up questions without a model: "那下半年呢?", "梅李镇呢?", "这个目标完成了吗?" are rewritten
 * into standalone questions by carrying the town, year, period, plan-or-result wording and topic
 * of the previous turn. Pure string work over the question and the conversation so far.
 */
import { parseYear } from '../domain/numbers.js';
import { townAliases } from '../domain/towns.js';
import { analyzeQuery } from './query.js';
import type { Segmenter } from '../text/jieba.js';

/** One earlier turn of a conversation, as the client sends it. */
export interface HistoryTurn {
  question: string;
  answer: string;
}

export interface FollowUpOptions {
  /**
   * Years a town's reports cover. When given, a year is not carried over to a town whose reports
   * do not cover it (淀山湖镇呢? after a question about 2022). Default: every year is carried.
   */
  yearsOf?: (town: string) => readonly number[];
  /**
   * The request's town filter. It wins over the conversation: the rewrite speaks of this town,
   * never of another one the history named. Default: none.
   */
  town?: string;
  /**
   * Year of a town's latest report: 今年/去年/明年 in a follow-up are read against it (今年呢? after
   * a question about 2019 of a report dated 2020 asks about 2020). Default: against the previous
   * question's year.
   */
  reportYearOf?: (town: string) => number | undefined;
}

/** What the previous turn contributed to the rewritten question. */
export type Carried = 'town' | 'year' | 'period' | 'role' | 'topic';

export interface FollowUpRewrite {
  /** The standalone question (the input itself when it needed nothing). */
  question: string;
  /** Whether the question was changed. */
  rewritten: boolean;
  carried: Carried[];
}

const YEAR = /(?:19|20)\d{2}年|[〇零一二三四五六七八九]{4}年/g;
const RELATIVE_YEAR = /今年|去年|明年|前年/g;
const PERIOD = /上半年|下半年|全年|年底|年初|一季度|二季度|三季度|四季度|前三季度|一到[三六九]月|1-[369]月/g;
/** Periods whose wording asks about plans: a switch to one turns "完成了多少" into "计划完成多少". */
const PLAN_PERIOD = /下半年|明年|年底/;
/** Words that point back to the previous turn's subject. */
const ANAPHOR = /这个|这项|这些|这一|那个|那项|那些|此项|该项|上述|前面说的|刚才说的|它们|它|其中|该/g;
/** Words that carry no subject: conversational glue, question particles, punctuation. */
const FILLER = /^(那么|那|还有|另外|再问一下|请问|再说说|那请问|然后|所以|对于|关于)|[呢吗么啊呀吧]+(?=[??。!!]*$)|[??。!!,,\s]+/g;
/** The part of a question that asks (多少家, 什么, 哪些): kept when the subject changes. */
const ASK = /多少[个家条项亩次名人所座批件起户套元万亿处艘辆台吨本轮类]?|几[个家条项亩次名人所座批件起户套处艘辆台吨本轮类]|多大|多长|多高|多久|多远|多重|哪些|哪个|哪条|哪里|什么时候|什么|是否|有没有|怎么样|如何|吗/;
const ROLE_WORD = /计划|打算|目标|准备|还要|将要|完成了|实现了|取得了/;
/** Verbs and adverbs that make a predicate, not a subject (增长了多少, 实际完成了多少). */
const PREDICATE_WORDS = /实际|一共|总共|共|累计|具体|大概|分别|都|又|还|已经|完成|实现|达到|增长|增加|新增|减少|下降|提高|有|是|了|的|到|情况|怎么样|进展|做|干/g;
/** A follow-up naming only one of these asks about the previous subject's attribute: 满意率呢? */
const ATTRIBUTE = /^(满意率|满意度|比例|占比|增长率|增幅|增速|同比|金额|面积|规模|目标|进度|完成率|完成情况|投资额|资金|人数|户数|总数|数量)$/;
const YEAR_OFFSET = { 今年: 0, 去年: -1, 明年: 1, 前年: -2 } as const;

interface Parts {
  text: string;
  /** Towns named, as written (the alias) and as the corpus names them. */
  towns: Array<{ alias: string; town: string }>;
  years: string[];
  periods: string[];
  anaphor: boolean;
  /** What is left once towns, years, periods, anaphors and glue are gone: the subject and predicate. */
  rest: string;
}

function parse(question: string, knownTowns: readonly string[]): Parts {
  const text = question.normalize('NFKC').trim();
  const towns: Parts['towns'] = [];
  let rest = text;
  const aliases = knownTowns.flatMap((town) => townAliases(town).map((alias) => ({ town, alias }))).sort((a, b) => b.alias.length - a.alias.length);
  for (const a of aliases) {
    if (rest.includes(a.alias)) {
      if (!towns.some((t) => t.town === a.town)) towns.push(a);
      rest = rest.split(a.alias).join(' ');
    }
  }
  const years = [...rest.matchAll(YEAR), ...rest.matchAll(RELATIVE_YEAR)].map((m) => m[0]);
  const periods = [...rest.matchAll(PERIOD)].map((m) => m[0]);
  const anaphor = new RegExp(ANAPHOR.source).test(rest);
  rest = rest.replace(YEAR, ' ').replace(RELATIVE_YEAR, ' ').replace(PERIOD, ' ').replace(ANAPHOR, ' ');
  rest = rest.replace(/\s+/g, ' ').trim();
  // Glue at either end and particles at the end, repeatedly (那 梅李镇 呢?).
  let previous = '';
  while (previous !== rest) {
    previous = rest;
    rest = rest.replace(FILLER, ' ').replace(/^的|的$/g, '').replace(/\s+/g, ' ').trim();
  }
  rest = rest.replace(/\s+/g, '');
  // 情况, 方面 and 的 alone say nothing of a subject.
  if (/^(的)?(情况|方面|怎么样|如何|进展)?$/.test(rest)) rest = '';
  return { text, towns, years, periods, anaphor, rest };
}

/** Replaces the first occurrence of any of `olds` in `text` by `replacement`, or returns undefined. */
function replaceFirst(text: string, olds: readonly string[], replacement: string): string | undefined {
  for (const old of olds) {
    const at = text.indexOf(old);
    if (at >= 0) return text.slice(0, at) + replacement + text.slice(at + old.length);
  }
  return undefined;
}

/** The question with its asking part (多少家, 什么, 吗) and final punctuation removed: its subject. */
function subjectOf(question: string): string {
  return question
    .replace(new RegExp(ASK.source, 'g'), '')
    .replace(/[??。!!\s]+$/, '')
    .replace(/(进行|开展|有|是|为|达到|的)$/, '');
}

/** Where a year or period goes when the question had none: after the town, else at the start. */
function insertAfterTown(question: string, towns: Parts['towns'], insert: string): string {
  const first = towns[0];
  if (!first) return insert + question;
  const at = question.indexOf(first.alias);
  return at < 0 ? insert + question : question.slice(0, at + first.alias.length) + insert + question.slice(at + first.alias.length);
}

/**
 * Rewrites one question against the previous standalone question. Exposed for tests; callers
 * use rewriteFollowUp, which folds over the whole history.
 */
export function rewriteAgainst(question: string, previous: string, knownTowns: readonly string[], segmenter: Segmenter, options: FollowUpOptions = {}): FollowUpRewrite {
  const cur = parse(question, knownTowns);
  const prev = parse(previous, knownTowns);
  const unchanged: FollowUpRewrite = { question, rewritten: false, carried: [] };
  const elliptical = /[呢]\s*[??]?\s*$/.test(cur.text) || cur.rest.length <= 3;
  // 增长了多少? 去年实际完成了多少?: a predicate without a subject asks about the previous one.
  const subjectless = cur.rest !== '' && cur.rest.replace(new RegExp(ASK.source, 'g'), '').replace(ROLE_WORD, '').replace(PREDICATE_WORDS, '').length <= 1;
  // 面积多大? 涉及多少人?: a few words naming no town ask more about the previous subject.
  const brief = cur.towns.length === 0 && cur.rest !== '' && cur.rest.replace(new RegExp(ASK.source, 'g'), '').length <= 4;

  // A question that names its own town or year and has no 呢 or anaphor stands on its own: it is
  // searched as typed (临湖镇2023年有哪些目标? is not about the previous turn's subject).
  const absoluteYear_ = cur.years.some((y) => absoluteYear(y) !== undefined);
  if ((cur.towns.length > 0 || absoluteYear_) && !cur.anaphor && !/呢\s*[??]?\s*$/.test(cur.text) && cur.rest.length >= 2) {
    // With a town filter the town need not be written into it either: the filter scopes the search.
    if (cur.towns.length > 0 || prev.towns.length === 0 || options.town) return unchanged;
  }
  if (!cur.anaphor && !elliptical && !subjectless && !brief) {
    // A question of its own. It keeps the conversation's town when it names none.
    // With a town filter the filter scopes it: nothing to carry.
    if (cur.towns.length > 0 || prev.towns.length === 0 || options.town || analyzeQuery(cur.text, knownTowns, segmenter).unknownPlace !== undefined) return unchanged;
    const town = prev.towns[0]!.town;
    let own = cur.text.replace(/^(那么|那|另外|还有|请问)[,,]?/, '');
    const prevYear = absoluteYear(prev.years[0]);
    const relative = own.match(RELATIVE_YEAR)?.[0] as keyof typeof YEAR_OFFSET | undefined;
    if (relative && prevYear !== undefined) own = own.replace(relative, `${prevYear + YEAR_OFFSET[relative]}年`);
    // 镇上给老人做了什么? is about the town of the conversation.
    const local = /镇上|镇里|本镇|我们镇|咱们镇|咱镇|全镇/;
    return { question: local.test(own) ? own.replace(local, town) : `${town}${own}`, rewritten: true, carried: ['town'] };
  }

  const carried = new Set<Carried>();
  let base = prev.text;
  // Town: swapped when the follow-up names one, else the previous one stays.
  if (cur.towns.length > 0) {
    const town = cur.towns[0]!.town;
    base = prev.towns.length > 0 ? replaceFirst(base, prev.towns.map((t) => t.alias), town)! : `${town}${base}`;
    for (const t of prev.towns.slice(1)) base = base.split(t.alias).join('');
  } else if (prev.towns.length > 0) carried.add('town');
  const baseTowns = cur.towns.length > 0 ? cur.towns.slice(0, 1).map((t) => ({ alias: t.town, town: t.town })) : prev.towns;

  // Year: swapped or kept. 明年 after a 2022 question is 2023; a later year asks about plans,
  // an earlier one about results.
  if (cur.years.length > 0) {
    const prevYear = absoluteYear(prev.years[0]);
    let year = cur.years[0]!;
    const offset = YEAR_OFFSET[year as keyof typeof YEAR_OFFSET];
    const town = cur.towns[0]?.town ?? prev.towns[0]?.town;
    const reportYear = town ? options.reportYearOf?.(town) : undefined;
    if (offset !== undefined && reportYear !== undefined) year = `${reportYear + offset}年`;
    else if (offset !== undefined && prevYear !== undefined) year = `${prevYear + offset}年`;
    const newYear = absoluteYear(year);
    base = replaceFirst(base, prev.years, year) ?? insertAfterTown(base, baseTowns, year);
    if ((newYear !== undefined && prevYear !== undefined && newYear > prevYear) || year === '明年') base = toPlan(base, year);
    else if (newYear !== undefined && prevYear !== undefined && newYear < prevYear) base = toReview(base);
  } else if (prev.years.length > 0) {
    // 淀山湖镇呢? after a 2022 question: the new town's reports may not reach 2022; then the
    // year is dropped rather than carried into a question its reports cannot answer.
    const year = absoluteYear(prev.years[0]);
    const covered = cur.towns.length > 0 && options.yearsOf && year !== undefined ? options.yearsOf(cur.towns[0]!.town).includes(year) : true;
    if (covered) carried.add('year');
    else base = base.replace(prev.years[0]!, '');
  }

  // Period: swapped or kept; a switch to a plan period turns a result question into a plan one.
  if (cur.periods.length > 0) {
    const period = cur.periods[0]!;
    const swapped = replaceFirst(base, prev.periods, period);
    if (swapped !== undefined) base = swapped;
    else {
      const year = [...base.matchAll(YEAR), ...base.matchAll(RELATIVE_YEAR)][0];
      base = year ? base.slice(0, year.index! + year[0].length) + period + base.slice(year.index! + year[0].length) : insertAfterTown(base, baseTowns, period);
    }
    if (PLAN_PERIOD.test(period)) base = toPlan(base, period);
  } else if (prev.periods.length > 0) carried.add('period');

  if (cur.rest === '') {
    // 梅李镇呢? 那下半年呢? 还有呢?: the previous question, with what was swapped.
    carried.add('topic');
    if (ROLE_WORD.test(base)) carried.add('role');
    return finish(question, base, carried);
  }

  if (cur.anaphor || subjectless || ATTRIBUTE.test(cur.rest) || (brief && !/呢\s*[??]?\s*$/.test(cur.text))) {
    // 这个目标完成了吗? 增长了多少? 满意率呢?: the previous subject, asked something new.
    carried.add('topic');
    let tail = stripTownsAndGlue(cur.text, cur.towns).replace(ANAPHOR, '').replace(YEAR, '').replace(RELATIVE_YEAR, '').replace(PERIOD, '');
    tail = tail.replace(/^[,,的]+/, '').replace(/呢([??]?)$/, (_m, q: string) => (ASK.test(tail) ? q : '有多少?'));
    return finish(question, `${subjectOf(base)},${tail}`, carried);
  }

  // 那专利呢? 养老方面呢?: a new subject in the previous frame (town, year, period, plan wording).
  const frame = [
    baseTowns[0]?.town ?? '',
    [...base.matchAll(YEAR), ...base.matchAll(RELATIVE_YEAR)][0]?.[0] ?? '',
    [...base.matchAll(PERIOD)][0]?.[0] ?? '',
  ].join('');
  const role = cur.rest.match(ROLE_WORD) ? '' : (prev.text.match(ROLE_WORD)?.[0] ?? '');
  if (role) carried.add('role');
  const asksQuantity = /多少|几[个家条项亩次名人所座批件起户套]/.test(prev.text) && !ASK.test(cur.rest);
  const ask = ASK.test(cur.rest) ? '' : asksQuantity ? '有多少' : '的情况';
  return finish(question, `${frame}${role}${cur.rest}${ask}?`, carried);
}

/** A year as a number: 2022年 and 二〇二二年 → 2022; relative years → undefined. */
function absoluteYear(year: string | undefined): number | undefined {
  if (!year) return undefined;
  return parseYear(year.replace(/年$/, ''));
}

/** Rewords a result question as a plan question: 完成了多少 → 计划完成多少. */
function toPlan(question: string, after: string): string {
  let q = question.replace(/了(?=多少|几|哪|什么)/g, '').replace(/(完成|实现|取得|新增|申报)了/g, '$1');
  if (!/计划|打算|目标|将|要/.test(q)) {
    const at = q.indexOf(after);
    q = at >= 0 ? `${q.slice(0, at + after.length)}计划${q.slice(at + after.length)}` : q;
  }
  return q;
}

/** Rewords a plan question as a result question: 打算整治 → 整治. */
function toReview(question: string): string {
  return question.replace(/(计划|打算|准备|将要|还要)(?=[\u4e00-\u9fff])/g, '');
}

/** The question without the towns it names and without leading glue (那, 那么, 请问). */
function stripTownsAndGlue(text: string, towns: Parts['towns']): string {
  let out = text;
  for (const t of towns) out = out.split(t.alias).join('');
  return out.replace(/^(那么|那|还有|另外|请问)[,,]?/, '').trim();
}

function finish(original: string, rewritten: string, carried: Set<Carried>): FollowUpRewrite {
  const question = rewritten.replace(/\s+/g, '').replace(/[??]+$/, '?');
  return { question, rewritten: question !== original.trim(), carried: [...carried] };
}

/**
 * Rewrites a follow-up into a standalone question using the conversation so far: each earlier
 * question is resolved against the one before it, then the new one against the last.
 */
export function rewriteFollowUp(question: string, history: readonly HistoryTurn[], knownTowns: readonly string[], segmenter: Segmenter, options: FollowUpOptions = {}): FollowUpRewrite {
  let previous: string | undefined;
  for (const turn of history) {
    const q = turn.question.trim();
    if (!q) continue;
    previous = previous === undefined ? q : rewriteAgainst(q, previous, knownTowns, segmenter, options).question;
  }
  if (previous === undefined) return { question, rewritten: false, carried: [] };
  if (options.town) previous = withTown(previous, options.town, knownTowns);
  const result = rewriteAgainst(question, previous, knownTowns, segmenter, options);
  if (!options.town) return result;
  // The filter wins: a town the rewrite brought in from the history gives way to the filter's.
  const own = parse(question, knownTowns).towns;
  if (own.length > 0) return result;
  const rewritten = withTown(result.question, options.town, knownTowns);
  return { ...result, question: rewritten, rewritten: rewritten !== question.trim() };
}

/** The question about `town` instead of the town it names (or with `town` in front when it names none). */
function withTown(question: string, town: string, knownTowns: readonly string[]): string {
  const named = parse(question, knownTowns).towns;
  if (named.length === 0) return question;
  let out = question;
  for (const t of named) if (t.town !== town) out = out.split(t.alias).join(town);
  return out;
}
