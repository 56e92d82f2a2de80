/**
 * Sentence annotations: what a report sentence states, read the same way questions are read
 * (question.ts). Computed once per sentence at ingest and stored with the index; the answer
 * step checks a question against them, and the drafting workspace builds its indicator table
 * (地区生产总值: target / estimate / outcome per year) on them. Pure, no I/O.
 *
 * Exported API (stable):
 *
 *   annotateSentence(text: string, context: SentenceContext): SentenceAnnotation
 *     text     the sentence as it stands in the cleaned document (offsets below are into it)
 *     context  { role, sectionYears, sectionPath, reportYear? } of the sentence's section
 *
 *   SentenceAnnotation = {
 *     period:  { years: number[]; half?: 'first' | 'second' | 'full' }  the period it is about
 *     stance:  'target' | 'estimate' | 'outcome'   the sentence's own stance (its main clause)
 *     figures: Figure[]                            every figure with a unit, in text order
 *     deadline?: string                            年内 / 9月底前 / 年底前 … when it names one
 *   }
 *   Figure = {
 *     text: '107亿元', value: 107, unit: '亿元', kind: FigureKind,
 *     base: { value: 10700000000, unit: '元' }      multipliers folded in (亿, 万)
 *     indicator: '地区生产总值'   what the figure measures: the phrase of its clause, cue words cut
 *     clause: '地区生产总值107亿元'  the clause around the figure
 *     stance: Stance               the figure's clause's stance (预计完成… → estimate)
 *     start, end                   offsets of `text` in the sentence
 *   }
 *   FigureKind = 'count' | 'money' | 'area' | 'length' | 'rate' | 'quantity' | 'duration' | 'date'
 *
 * Also exported: figureKindOfUnit(unit), stanceOfClause(clause, role), periodOf(text, context),
 * FIGURE_KINDS, and the helper types. "5G", "12345平台", 2023年, 第三 and 十四五 are not figures.
 */
import { yearsIn } from '../corpus/structure.js';
import type { Chunk, ParsedDocument, Role } from '../domain/types.js';
import { parseChineseNumber, toBaseUnit } from '../domain/numbers.js';

export type Stance = 'target' | 'estimate' | 'outcome';
export type Half = 'first' | 'second' | 'full';
export type FigureKind = 'count' | 'money' | 'area' | 'length' | 'rate' | 'quantity' | 'duration' | 'date';
export const FIGURE_KINDS: readonly FigureKind[] = ['count', 'money', 'area', 'length', 'rate', 'quantity', 'duration', 'date'];

export interface Period {
  /** Calendar years the statement is about (the sentence's own, else its section's). */
  years: number[];
  /** 上半年 / 下半年 / 全年 when the sentence or its section says so. */
  half?: Half;
}

export interface Figure {
  text: string;
  value: number;
  unit: string;
  kind: FigureKind;
  /** The value in its base unit: 1.2亿元 → 120000000 元, so 12000万元 compares equal. */
  base: { value: number; unit: string };
  /** What the figure measures (地区生产总值, 高新技术企业, 化解率): its clause without cue words. */
  indicator: string;
  /** The clause holding the figure. */
  clause: string;
  stance: Stance;
  start: number;
  end: number;
}

export interface SentenceAnnotation {
  period: Period;
  stance: Stance;
  figures: Figure[];
  /** A deadline the sentence names (年内, 9月底前, 年底前, 6月份), as written. */
  deadline?: string;
}

export interface SentenceContext {
  /** Role of the sentence's section. */
  role: Role;
  /** Years of the sentence's section (Chunk.years). */
  sectionYears: readonly number[];
  /** Heading path of the section (its 上半年/下半年 wording counts). */
  sectionPath: readonly string[];
  /** Year of the report's date: 今年/去年/明年 in the sentence are resolved against it. */
  reportYear?: number;
}

// ---------------------------------------------------------------------------------------------
// Figures

/** Units by kind, longest first within the alternation so 万平方米 wins over 平方米 and 米. */
const UNIT_KINDS: Array<[FigureKind, string[]]> = [
  ['money', ['亿美元', '万美元', '美元', '亿元', '万元', '元']],
  ['area', ['万平方米', '平方公里', '平方米', '万亩', '亩', '公顷']],
  ['length', ['公里', '千米', '米']],
  ['rate', ['个百分点', '百分点', '%', '‰', '倍']],
  ['quantity', ['立方米', '万千瓦时', '千瓦时', '万千瓦', '千瓦', '兆瓦', '万吨', '吨', '万株', '株', '棵']],
  ['duration', ['小时', '分钟', '个工作日', '工作日', '个月', '天']],
  [
    'count',
    [
      '万人次', '人次', '家次', '万剂', '剂次', '剂', '场次', '户次', '万人', '万户', '万份', '余人', '个', '家', '座', '条', '项', '套', '处', '所', '张', '件', '类', '次', '场', '批',
      '辆', '台', '根', '盏', '间', '栋', '幢', '块', '宗', '份', '户', '名', '人', '位', '起', '轮', '床', '支', '部', '本', '单', '笔', '只', '艘', '支', '团', '组', '村', '所', '趟', '篇', '门',
    ],
  ],
];
const UNIT_KIND = new Map<string, FigureKind>(UNIT_KINDS.flatMap(([kind, units]) => units.map((u) => [u, kind] as [string, FigureKind])));
const UNITS = [...UNIT_KIND.keys()].sort((a, b) => b.length - a.length);

/** The kind of quantity a unit measures, or undefined for a word that is not a unit. */
export function figureKindOfUnit(unit: string): FigureKind | undefined {
  return UNIT_KIND.get(unit);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\%]/g, '\\$&');
/** Number (Arabic with decimals and thousands commas, or Chinese), optional 万/亿, then a unit. */
const FIGURE = new RegExp(
  `(\\d+(?:,\\d{3})*(?:\\.\\d+)?|[零〇一二两三四五六七八九十百千]+)(?:\\s*(?:-|~|～|—|至|到)\\s*(?:\\d+(?:\\.\\d+)?|[零〇一二两三四五六七八九十百千]+))?\\s*(万|亿)?(余|多)?(${UNITS.map(escapeRe).join('|')})`,
  'g',
);
/** Deadlines: 9月底前, 年内, 年底前, 6月份, 10月中旬, 三季度末. */
const DEADLINE = /(?:(?:\d{1,2}|[一二三四五六七八九十]{1,2})月(?:底前|底|前|份|中旬|上旬|下旬|末)?(?:前)?|年内|年底前|年底|年末|上半年内|下半年内|[一二三四]季度(?:末|前)?)(?=[,,。;;\u4e00-\u9fff]|$)/g;

/** A unit character that starts a word with the next one (3项目标 is no 3项 of 目标, 5个性化…). */
const WORD_AFTER_UNIT = new Set(['个性', '个体', '个案', '条例', '条件', '项目', '人才', '人民', '人员', '人口', '人大', '家庭', '家长', '家园', '家风', '部门', '部署', '部分', '所长', '处理', '处置', '次序', '名单', '名称', '位置', '户籍', '户外', '台账', '起步', '村民', '村庄', '村级', '本地', '本级', '场所', '场景', '批次', '类型', '类别', '座谈', '套餐', '件事']);

const CLAUSE_BREAK = /[,,;;:。!?!?、()()]/;

/** The clause of `text` holding [start, end): from the last break before to the first after. */
function clauseAround(text: string, start: number, end: number): { clause: string; from: number } {
  let from = start;
  while (from > 0 && !CLAUSE_BREAK.test(text[from - 1]!)) from--;
  let to = end;
  while (to < text.length && !/[,,;;。!?!?]/.test(text[to]!)) to++;
  return { clause: text.slice(from, to), from };
}

/** Cue words and glue that say how a figure is stated, not what it measures. */
const INDICATOR_NOISE =
  /^(其中|现有|目前|现阶段|全年|年内|今年|明年|去年|下半年|上半年|半年来|一年来|全镇|全街道|全区|累计|共计|共|力争|确保|争取|计划|预计|目标|实际|已经|已|完成|实现|达到|达|新增|新建|建成|启动|申报|引进|培育|打造|并|再|和|及|与|等|同比|比上年|较上年|增长|提高|提升|下降|减少|超|超过|突破|约|近|为|是|的|到|至)+|(完成|实现|达到|达|为|是|约|近|超过|超|突破|累计|共计|共|新增|增长|提高|提升|下降|减少|达到了|完成了|实现了|分别|合计|总计|均|以上|的)+$/g;

function cleanIndicator(phrase: string): string {
  let out = phrase.replace(/[“”"‘’《》\s]/g, '');
  for (let i = 0; i < 3; i++) out = out.replace(INDICATOR_NOISE, '');
  return out.length > 16 ? out.slice(-16) : out;
}

/**
 * What a figure measures: the phrase before it in its clause (预计完成地区生产总值105亿元 →
 * 地区生产总值), else the noun after it (1364套安置房 → 安置房); a bare rate of growth
 * (同比增长4.37%) belongs to the indicator of the clause before it, which is prefixed.
 */
function indicatorOf(text: string, clauseFrom: number, start: number, end: number, previousIndicator: string | undefined): string {
  const before = cleanIndicator(text.slice(clauseFrom, start));
  const afterMatch = text.slice(end).match(/^(?:的)?([\u4e00-\u9fff]{2,8}?)(?=$|[,,、;;。:的和及与以等(（\d]|(?:初始|进行|开展|实施|建设|改造|整治|提升|完成|实现|申报|开工|落地|登记|集中))/);
  const after = afterMatch && !/^(以上|以下|左右|以内|之内|余|多)/.test(text.slice(end)) ? afterMatch[1]! : '';
  const growth = /^(同比)?(增长|提高|提升|下降|减少|增幅|增速)/.test(text.slice(clauseFrom, start).replace(/^[,,]/, ''));
  if (growth && previousIndicator) return `${previousIndicator}增长`;
  // 20个二级网格, 1364套安置房: a measure word followed by a noun counts that noun.
  return after.length >= 2 ? after : before;
}

/** The figures of a sentence, in text order. */
function figuresOf(text: string, context: SentenceContext): Figure[] {
  const figures: Figure[] = [];
  let previousIndicator: string | undefined;
  let previousClauseFrom = -1;
  for (const m of text.matchAll(FIGURE)) {
    const start = m.index;
    const [whole, numberText, multiplier, , unit] = m as unknown as [string, string, string | undefined, string | undefined, string];
    const end = start + whole.length;
    const before = text.slice(0, start);
    const after = text.slice(end);
    // 5G, PM2.5, G60, 1+N, 12345平台: names and codes, not figures.
    if (/[A-Za-z.#+/_\-]$/.test(before) || /^[A-Za-z]/.test(after)) continue;
    if (/\d$/.test(before)) continue;
    // 第三批, 一户一档, 一批: ordinals and articles.
    if (/第$/.test(before)) continue;
    const isChinese = !/^\d/.test(numberText);
    let value: number | undefined;
    if (isChinese) {
      if (numberText === '一' && !multiplier) continue;
      if (/^[一二两三四五六七八九十]$/.test(numberText) && /^[\u4e00-\u9fff]?[一二两三四五六七八九十]/.test(after)) continue;
      if (unit === '%' || unit === '‰') continue;
      // 三五个 is three or five, not 35: bare digit strings are no amount.
      value = parseChineseNumber(numberText, { digitStrings: false });
    } else value = Number(numberText.replace(/,/g, ''));
    if (value === undefined || !Number.isFinite(value)) continue;
    // 2023年 never matches (年 is no unit); 3年 and 12月 neither. A unit directly followed by a
    // character that makes it part of a word (个性, 条例, 项目, 人才) is no unit.
    if (unit.length === 1 && WORD_AFTER_UNIT.has(unit + (after[0] ?? ''))) continue;
    const kind = figureKindOfUnit(unit)!;
    const fullUnit = `${multiplier ?? ''}${unit}`;
    const { clause, from } = clauseAround(text, start, end);
    const indicator = indicatorOf(text, from, start, end, from === previousClauseFrom ? previousIndicator : previousIndicator);
    previousIndicator = indicator || previousIndicator;
    previousClauseFrom = from;
    figures.push({
      text: whole,
      value,
      unit: fullUnit,
      kind,
      base: toBaseUnit(value, fullUnit),
      indicator,
      clause,
      stance: stanceOfClause(text.slice(0, end), context.role),
      start,
      end,
    });
  }
  for (const m of text.matchAll(DEADLINE)) {
    const start = m.index;
    if (/\d$/.test(text.slice(0, start))) continue;
    const { clause } = clauseAround(text, start, start + m[0].length);
    const month = m[0].match(/^(\d{1,2})月/);
    figures.push({
      text: m[0],
      value: month ? Number(month[1]) : 12,
      unit: '月',
      kind: 'date',
      base: { value: month ? Number(month[1]) : 12, unit: '月' },
      indicator: clause.replace(m[0], '').replace(/^[,,]/, ''),
      clause,
      stance: 'target',
      start,
      end: start + m[0].length,
    });
  }
  return figures.sort((a, b) => a.start - b.start);
}

// ---------------------------------------------------------------------------------------------
// Stance

const ESTIMATE = /预计|预期完成/;
/** Words that state a target anywhere (力争, 确保, 目标是, 计划 but not 按计划). */
const TARGET = /确保|力争|争取|(?<!按|原|年度|人才|英才|行动|专项|工程|“)计划(?!内|生育|类|书|表|单|”)|(?<![\u4e00-\u9fff]{2}的)拟(?=[\u4e00-\u9fff])|目标(是|为)|力求|预期|将于|将在|将要|即将|年内|年底前|月底前/;
/** In a plan section 将, 要 and 目标 alone state targets too (in a review they are nouns: 重要, 要求, …目标). */
const PLAN_TARGET = /将|(?<![重主需只不])要(?!求|素|点|紧|是)|目标/;
/** Words that state an outcome: what was achieved. */
const OUTCOME = /已经|已(?!有|于)|累计|实际|同比|比上年|较上年|获评|荣获|共计|(完成|实现|达到|建成|新增|开展|举办|发放|受理|化解|整改|拆除|关停|引进|申报|认定)了|成功(创建|举办|入选|申报|劝阻)/;

/**
 * The stance of a clause (or of a sentence up to a figure): the last explicit cue decides
 * (预计完成 → estimate; 力争 → target; 累计/已/同比 → outcome); without one, the section's role
 * does (a plan section states targets, any other section outcomes).
 */
export function stanceOfClause(text: string, role: Role): Stance {
  // Only the clause the figure sits in and the sentence's opening clause carry its stance.
  const clauses = text.split(/[,,;;。:]/).filter(Boolean);
  const own = clauses.at(-1) ?? '';
  for (const part of [own, clauses[0] ?? '']) {
    if (ESTIMATE.test(part)) return 'estimate';
    if (TARGET.test(part)) return 'target';
    if (OUTCOME.test(part)) return 'outcome';
    if (role === 'plan' && PLAN_TARGET.test(part)) return 'target';
  }
  return role === 'plan' ? 'target' : 'outcome';
}

// ---------------------------------------------------------------------------------------------
// Period

const RELATIVE: Record<string, number> = { 今年: 0, 当年: 0, 本年: 0, 去年: -1, 上年: -1, 明年: 1, 前年: -2 };

/** The period a sentence is about: its own years (not those it compares with), else its section's. */
export function periodOf(text: string, context: SentenceContext): Period {
  // 较2018年, 比2019年, 2018年以来: years of comparison, not of the statement.
  const own = yearsIn(text.replace(/(较|比|与|自|从)((?:19|20)\d{2})年|((?:19|20)\d{2})年(以来|至今|起)/g, ''));
  const relative = [...text.matchAll(/今年|当年|本年|去年|明年|前年/g)].map((m) => RELATIVE[m[0]]!);
  let years = own;
  if (years.length === 0 && relative.length > 0 && context.reportYear !== undefined) years = [...new Set(relative.map((r) => context.reportYear! + r))];
  if (years.length === 0) {
    const section = [...context.sectionYears];
    // A section spanning two years (a title naming both) speaks of the later one when it plans.
    years = section.length <= 1 ? section : context.role === 'plan' ? [Math.max(...section)] : context.role === 'review' ? [Math.min(...section)] : section;
  }
  const where = `${context.sectionPath.join(' ')} ${text}`;
  const half = /上半年|半年来|1-6月|一至六月/.test(text) ? 'first' : /下半年/.test(text) ? 'second' : /全年/.test(text) ? 'full'
    : /上半年/.test(where) ? 'first' : /下半年/.test(where) ? 'second' : undefined;
  return { years, ...(half ? { half } : {}) };
}

/** Annotates one sentence of a report (see the module comment). */
export function annotateSentence(text: string, context: SentenceContext): SentenceAnnotation {
  const normalized = text;
  const figures = figuresOf(normalized, context);
  const deadline = figures.find((f) => f.kind === 'date')?.text;
  return {
    period: periodOf(normalized, context),
    stance: stanceOfClause(normalized.split(/[,,;;。]/)[0] ?? normalized, context.role),
    figures,
    ...(deadline ? { deadline } : {}),
  };
}

/**
 * Every sentence's annotation (period, stance, figures), in sentence-row order. Cheap (regular
 * expressions over ~1 MB at most per hundred reports), so done for every build, reused files too:
 * a change of the annotation rules needs no re-embedding.
 */
export function annotateSentences(documents: readonly ParsedDocument[], chunks: readonly Chunk[]): SentenceAnnotation[] {
  const byId = new Map(documents.map((d) => [d.meta.docId, d]));
  return chunks.flatMap((chunk) => {
    const doc = byId.get(chunk.docId);
    const reportYear = doc ? Number(doc.meta.date.slice(0, 4)) : NaN;
    const context = { role: chunk.role, sectionYears: chunk.years, sectionPath: chunk.sectionPath, ...(Number.isFinite(reportYear) ? { reportYear } : {}) };
    return chunk.sentences.map(([s, e]) => annotateSentence(doc ? doc.text.slice(s, e) : '', context));
  });
}
