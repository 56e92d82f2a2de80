/**
 * Quantified targets in a clause: 1364套安置房, “千村美居”村(组)20个, 化解率达80%以上, 计划投资14.3亿元.
 * Parses Arabic and Chinese numerals (两个, 一千三百六十四), ranges (5-8个, 3至5家), qualifiers
 * (以上/超/突破 → min, 以内/不超过 → max, 左右 → about) and what is counted; skips numbers that
 * are names or dates (“333”, 2.0版, 5号线, 2023年, 24小时, 四大功能片区, 一户一档). Pure.
 */
import type { Target, TargetQualifier } from '../domain/commitment.js';
import { parseChineseNumber, toBaseUnit } from '../domain/numbers.js';

/** Units a target may carry, longest first so 万平方米 wins over 平方米 and 米. */
const UNITS = [
  '万平方米', '平方公里', '平方米', '立方米', '万千瓦时', '千瓦时', '公里', '千米', '万亩', '亩', '公顷',
  '亿美元', '万美元', '美元', '亿元', '万元', '元', '个百分点', '百分点', '%', '‰',
  '万人次', '人次', '家次', '场次', '万人', '万株', '万吨', '千瓦', '兆瓦',
  '个', '家', '座', '条', '项', '套', '处', '所', '张', '件', '类', '次', '场', '批', '辆', '台', '根', '盏', '吨',
  '间', '栋', '幢', '块', '宗', '份', '株', '棵', '户', '名', '人', '位', '起', '轮', '米', '床', '倍', '支', '部', '路段',
].sort((a, b) => b.length - a.length);

const ARABIC = String.raw`\d+(?:\.\d+)?`;
const CHINESE = '[零〇一二两三四五六七八九十百千]+';
const NUMBER = `(?:${ARABIC}|${CHINESE})`;
/** A figure: optional lower bound and range, then a unit. */
const FIGURE = new RegExp(`(${NUMBER})(?:\\s*(?:-|~|～|—|至|到)\\s*(${NUMBER}))?\\s*(${UNITS.map(escape).join('|')})`, 'g');

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\%]/g, '\\$&');
}

function toNumber(text: string): number | undefined {
  if (/^\d/.test(text)) return Number(text);
  return parseChineseNumber(text, { digitStrings: false });
}

/** Words after a figure that qualify it. */
const AFTER_QUALIFIER: Array<[RegExp, TargetQualifier]> = [
  [/^(以上|及以上|之上|多)/, 'min'],
  [/^(以内|以下|之内)/, 'max'],
  [/^(左右|上下)/, 'about'],
];
/** Words before a figure that qualify it (the text just before the number). */
const BEFORE_QUALIFIER: Array<[RegExp, TargetQualifier]> = [
  [/(超过|超|突破|不少于|不低于|至少|大于|高于)$/, 'min'],
  [/(不超过|不高于|低于|少于|控制在|压降至|压减至|降至)$/, 'max'],
  [/(约|近|大约)$/, 'about'],
];

/** Nouns that make a counted Chinese numeral a name (三项制度, 四个意识, 两个维护), not a target. */
const NAME_AFTER = /^(制度|机制|要求|原则|意识|自信|维护|确立|自觉|责任|必须|服务|文化|工程|行动|示范|提升|融合)/;
/** A verb or copula that ends the phrase before a figure: 化解率达 80%, 就业率 95%. */
const TRAILING_VERB = /(达到|达|为|突破|超过|超|不少于|不低于|至少|控制在|提高到|提高至|提升至|提升到|降至|降低到|压降至|均提高|提高|提升|降低|下降|实现|完成|增长|增加|新增|累计|共计|共|分别|合计|总计|约|近|以上|均)$/;
const LEADING_NOISE = /^(全年|年内|今年|明年|下半年|上半年|全镇|全街道|全区|累计|共计|共|力争|确保|计划(?!投资)|新增|新建|建成|完成|实现|启动|申报|引进|培育|打造|并|再|其中|和|及|与|等)+/;
/** Context words that mark a figure as today's state, not a target. */
const EXISTING_STATE = /(现阶段|现有|目前|已有|原有)[^,,;;。]*$/;

export interface ParseTargetsOptions {
  /** Offset of `text` in the document, added to every target's start/end. Default 0. */
  offset?: number;
  /** Where the phrase a figure counts may start at the earliest (e.g. just after the action verb), relative to text. */
  objectStart?: number;
}

/**
 * The figures of a clause, with what each counts. Figures in quotes, after a letter (PM2.5),
 * before 年/月/日/号/版/期/级/星/大, or that describe the existing state are skipped.
 */
export function parseTargets(text: string, options: ParseTargetsOptions = {}): Target[] {
  const offset = options.offset ?? 0;
  const targets: Target[] = [];
  /** Where the previous figure's counted phrase ends: the next figure's phrase starts after it. */
  let consumed = Math.max(0, options.objectStart ?? 0);
  for (const m of text.matchAll(FIGURE)) {
    const start = m.index;
    const numberText = m[1]!;
    const unit = m[3]!;
    let end = start + m[0].length;
    const before = text.slice(0, start);
    const after = text.slice(end);
    if (isInsideQuotes(before)) continue;
    if (/[A-Za-z.#+\-/]$/.test(before)) continue; // PM2.5, G60, 1+N
    if (/^\d/.test(numberText) && /\d$/.test(before)) continue;
    if (/第$/.test(before) || /^[年月日号版期级星大代届]/.test(after)) continue;
    const isChinese = !/^\d/.test(numberText);
    if (isChinese) {
      // 一 alone is an article (一批, 一支, 一件事); 一户一档 and friends are idioms.
      if (numberText === '一' || /^一/.test(numberText) && /^[\u4e00-\u9fff]?一/.test(after)) continue;
      if (NAME_AFTER.test(after)) continue;
      if (/[\u4e00-\u9fff]$/.test(before) && /[每统唯万之]$/.test(before)) continue;
    }
    if (EXISTING_STATE.test(before)) continue;
    if (unit === '%' && /^[\u4e00-\u9fff]/.test(numberText)) continue;
    const value = toNumber(numberText);
    if (value === undefined || !Number.isFinite(value)) continue;
    const valueMax = m[2] !== undefined ? toNumber(m[2]) : undefined;

    let qualifier: TargetQualifier | undefined;
    for (const [re, q] of AFTER_QUALIFIER) {
      const q1 = after.match(re);
      if (q1) {
        qualifier = q;
        end += q1[0].length;
        break;
      }
    }
    if (!qualifier) qualifier = BEFORE_QUALIFIER.find(([re]) => re.test(before))?.[1];

    const what = countedPhrase(text, start, end, consumed);
    consumed = what.consumedTo;
    targets.push({
      value,
      ...(valueMax !== undefined && valueMax > value ? { valueMax } : {}),
      unit,
      what: what.text,
      ...(qualifier ? { qualifier } : {}),
      text: text.slice(start, end),
      start: offset + start,
      end: offset + end,
    });
  }
  return targets;
}

/** True when an opening quote before the figure is still open. */
function isInsideQuotes(before: string): boolean {
  const open = before.lastIndexOf('“');
  return open !== -1 && before.lastIndexOf('”') < open;
}

/**
 * What a figure counts: the noun phrase right after it (1364套安置房), else the phrase before it
 * back to the previous figure or the start of the object (新增规上企业15家 → 规上企业).
 */
function countedPhrase(text: string, start: number, end: number, consumed: number): { text: string; consumedTo: number } {
  const after = text.slice(end);
  const follow = after.match(/^(?:的)?([\u4e00-\u9fff“”()()]{2,12}?)(?=$|[,,、;;。:的和及与以等\d]|(?:初始|进行|开展|实施|建设|改造|整治|提升|完成|商业化|运营|实现|申报|开工|落地|登记|全年|年内|计划|力争|确保|达到|突破))/);
  if (follow && !/^(以上|以下|左右|以内|的|和|及|与|等)/.test(after) && /[\u4e00-\u9fff]/.test(follow[1]!)) {
    const phrase = follow[1]!.replace(/^的/, '');
    return { text: phrase, consumedTo: end + (follow.index ?? 0) + follow[0].length };
  }
  // From the previous figure (农田1600亩、蔬菜基地86亩 counts each item on its own) or the object's start.
  let phrase = text.slice(Math.min(consumed, start), start);
  const cut = Math.max(phrase.lastIndexOf(','), phrase.lastIndexOf(','), phrase.lastIndexOf(';'));
  if (cut !== -1) phrase = phrase.slice(cut + 1);
  phrase = phrase.replace(/^[,,;;:、\s]+/, '').replace(/[,,;;:、\s]+$/, '');
  for (let i = 0; i < 3; i++) phrase = phrase.replace(TRAILING_VERB, '').replace(LEADING_NOISE, '');
  // A long phrase is cut to what follows its last quoted name: “信访突出问题攻坚化解年”化解率 → 化解率.
  if (phrase.length > 10) {
    const close = phrase.lastIndexOf('”');
    if (close !== -1 && phrase.length - close > 2) phrase = phrase.slice(close + 1);
  }
  if (phrase.length > 14) phrase = phrase.slice(-14);
  return { text: phrase.replace(/^[的和及与等]/, ''), consumedTo: end };
}

/** A target's value in its base unit (亿元 → 元, 万平方米 → 平方米, 个百分点 → 百分点): toBaseUnit. */
export function baseValue(target: Pick<Target, 'value' | 'unit'>): { value: number; unit: string } {
  return toBaseUnit(target.value, target.unit);
}
