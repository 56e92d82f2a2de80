/**
 * Checks a generated answer against the passages it was given, before it may be shown as final:
 * every [n] names a given passage, every sentence carries one, every number (digits or Chinese
 * numerals, with its unit) appears in a cited passage, no town is named that the cited
 * passages are not about, and no link leads anywhere a cited passage does not name. Pure functions over plain data; the LLM path retries or falls back on
 * a failure.
 */
import type { Passage } from '../domain/types.js';
import { CN_DIGITS, parseChineseNumber } from '../domain/numbers.js';
import { placeRuns, townAliases } from '../domain/towns.js';

/** The checks, in the order they run. */
export const CHECK_NAMES = ['citation-range', 'sentence-citations', 'numbers', 'towns', 'links'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface CheckResult {
  name: CheckName;
  passed: boolean;
  /** What failed, quoted from the answer (empty when passed). */
  problems: string[];
}

/** What the checks need of a passage: its text and the metadata shown to the model with it. */
export type CheckedPassage = Pick<Passage, 'text' | 'town' | 'title' | 'section' | 'date'>;

export interface GroundingInput {
  answer: string;
  /** The passages given to the model, in order: [1] is passages[0]. */
  passages: readonly CheckedPassage[];
  /** Towns of the corpus (full names); their short forms (梅李 for 梅李镇) count as mentions too. */
  knownTowns: readonly string[];
}

export interface GroundingReport {
  passed: boolean;
  results: CheckResult[];
  /** Passage numbers the answer cites, ascending, valid or not. */
  cited: number[];
  /** The answer says that the reports do not hold the answer, and claims nothing. */
  refusal: boolean;
}

/** [1], [1,2], [1、3], [1][2] (NFKC turns full-width brackets into these); 【1】 too. */
const MARKER = /[[【]\s*(\d{1,3}(?:\s*[,、,]\s*\d{1,3})*)\s*[\]】]/g;

/**
 * A statement that the reports do not hold the answer. Such a sentence needs no citation; an
 * answer made only of such sentences is a refusal (found: false).
 */
const REFUSAL =
  /(报告|段落|资料|材料|文件|原文|内容)[^。!?;\n]{0,12}(没有|并未|未|不|无)(包含|提及|提到|涉及|找到|载明|说明|给出|记载|披露|明确)|无法(回答|确定|判断|得知|找到)|没有(找到|查到|相关|提及|提到|涉及|具体|明确)|未(能)?(找到|查到|提及|提到|涉及)|不包含/;

/** Passage numbers cited by a piece of text. */
export function citedNumbers(text: string): number[] {
  const out: number[] = [];
  for (const m of text.normalize('NFKC').matchAll(MARKER)) {
    for (const n of m[1]!.split(/[,、,]/)) out.push(Number.parseInt(n.trim(), 10));
  }
  return out;
}

/** Removes citation markers (so that their digits are not taken for figures). */
export function stripMarkers(text: string): string {
  return text.normalize('NFKC').replace(MARKER, '');
}

/** What may follow a sentence's closing punctuation and still belong to it: quotes, brackets, markers. */
const SENTENCE_TAIL = /^(?:[”’」』)"' \t]|[[【]\s*\d{1,3}(?:\s*[,、,]\s*\d{1,3})*\s*[\]】])+/;

/**
 * Splits an answer into sentences at 。!? and line breaks (Markdown lists), each keeping the
 * quotes and markers that follow its closing punctuation ("……35家。[1]" is one sentence).
 * A semicolon joins clauses of one sentence, as in the reports.
 */
export function splitAnswerSentences(answer: string): string[] {
  const text = answer.normalize('NFKC');
  const out: string[] = [];
  let current = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    current += ch;
    i++;
    if (/[。!?\n]/.test(ch)) {
      if (ch !== '\n') {
        const tail = SENTENCE_TAIL.exec(text.slice(i));
        if (tail) {
          current += tail[0];
          i += tail[0].length;
        }
      }
      out.push(current);
      current = '';
    }
  }
  if (current) out.push(current);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Letters, digits and CJK characters in a sentence once its markers and Markdown are gone. */
function contentOf(sentence: string): string {
  return stripMarkers(sentence).replace(/[^\p{L}\p{N}]/gu, '');
}

/** A sentence that needs no citation: no content, a lead-in ending in a colon, or a refusal. */
function isExempt(sentence: string): boolean {
  const plain = stripMarkers(sentence).trim();
  if (contentOf(sentence).length < 2) return true;
  if (/[::]\s*$/.test(plain)) return true;
  return REFUSAL.test(plain);
}

// ---------------------------------------------------------------------------------------------
// Numbers

/**
 * Units a figure may carry, longest first so that 平方公里 wins over 公里. A figure's unit is part
 * of what must match: 35家 is not supported by 35个.
 */
const UNITS = [
  '个百分点', '百分点', '平方公里', '平方米', '立方米', '千瓦时', '公顷', '公里', '千米', '千克', '小时', '分钟', '家次', '人次', '户次', '批次', '轮次', '季度', '周年',
  '%', '‰', '元', '个', '家', '条', '项', '亩', '次', '名', '人', '所', '座', '批', '轮', '件', '起', '户', '套', '辆', '台', '吨', '米', '岁', '年', '月', '日', '天', '类',
  '场', '期', '支', '处', '栋', '幢', '间', '张', '份', '位', '例', '宗', '笔', '组', '块', '棵', '株', '只', '部', '种', '篇', '倍', '成', '届', '周', '号', '层', '根', '盏', '片', '道', '门', '步', '斤',
] as const;
const UNIT_PATTERN = UNITS.map((u) => u.replace(/[%‰]/g, (c) => `\\${c}`)).join('|');

const DIGIT_FIGURE = new RegExp(`(\\d+(?:,\\d{3})*(?:\\.\\d+)?)\\s*([万亿千百]{0,2})\\s*(${UNIT_PATTERN})?`, 'g');
const CN_FIGURE = new RegExp(`(第)?(百分之)?([零〇一二两三四五六七八九十百千万亿]+(?:点[零〇一二三四五六七八九]+)?)(${UNIT_PATTERN})?`, 'g');

/** A figure found in text: its value (multipliers applied), unit and surface form. */
export interface Figure {
  value: number;
  unit: string;
  surface: string;
}

const MULTIPLIER: Record<string, number> = { 万: 1e4, 亿: 1e8, 千: 1e3, 百: 1e2 };

/** The figures of a text: digits (35家, 5.19亿元, 83.2%) and Chinese numerals (三十五家, 百分之八十). */
export function extractFigures(text: string): Figure[] {
  const plain = stripMarkers(text);
  const figures: Figure[] = [];
  for (const m of plain.matchAll(DIGIT_FIGURE)) {
    const [surface, digits, mult, unit] = m as unknown as [string, string, string, string | undefined];
    let value = Number(digits.replace(/,/g, ''));
    for (const c of mult) value *= MULTIPLIER[c] ?? 1;
    // 5.19亿 is 519000000, not 519000000.00000006.
    figures.push({ value: Number(value.toPrecision(12)), unit: unit ?? '', surface: surface.trim() });
  }
  for (const m of plain.matchAll(CN_FIGURE)) {
    const [surface, ordinal, percent, run, unit] = m as unknown as [string, string | undefined, string | undefined, string, string | undefined];
    // 第一, 第三: ordinals number the report's points, not quantities.
    if (ordinal) continue;
    const hasDigit = [...run].some((c) => c in CN_DIGITS);
    // 万, 千万 (by all means), 十分 (very): no digit, no figure.
    if (!hasDigit && !(run.length === 1 && run === '十' && unit)) continue;
    const value = parseChineseNumber(run);
    if (value === undefined) {
      figures.push({ value: Number.NaN, unit: unit ?? '', surface });
      continue;
    }
    const magnitude = /[十百千万亿]/.test(run);
    // 一 is everywhere in ordinary words (一体化, 进一步, 一批); lone digits without a unit are
    // words (三农, 四好农村路). What remains is a stated figure.
    if (!percent && !magnitude && (value === 1 || !unit) && run.length === 1) continue;
    figures.push({ value, unit: percent ? '%' : (unit ?? ''), surface });
  }
  return figures;
}

const sameValue = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/** Whether a figure of the answer is stated by the reference text (literally or as the same value and unit). */
function isSupported(figure: Figure, referenceText: string, referenceFigures: Figure[]): boolean {
  if (referenceText.includes(figure.surface)) return true;
  if (Number.isNaN(figure.value)) return false;
  return referenceFigures.some((r) => sameValue(r.value, figure.value) && (figure.unit === '' || r.unit === figure.unit));
}

/** A passage as the checks read it: its text and the metadata the model was shown. */
function referenceOf(p: CheckedPassage): string {
  const date = /^(\d{4})(?:-(\d{2})-(\d{2}))?$/.exec(p.date);
  const when = date ? `${date[1]}年${date[2] ? `${Number(date[2])}月${Number(date[3])}日` : ''}` : p.date;
  return `${p.town} ${p.title} ${p.section} ${when}\n${p.text}`.normalize('NFKC');
}

// ---------------------------------------------------------------------------------------------
// Towns

/** Towns and places an answer names: known towns (by any alias) and other XX镇-shaped names. */
export function namedPlaces(text: string, knownTowns: readonly string[]): { known: string[]; other: string[] } {
  let plain = stripMarkers(text);
  const known: string[] = [];
  // Longest aliases first, and cut out what matched, so 天生港镇街道 is not read again as 天生港镇.
  const aliases = knownTowns.flatMap((town) => townAliases(town).map((alias) => ({ town, alias }))).sort((a, b) => b.alias.length - a.alias.length);
  for (const { town, alias } of aliases) {
    if (plain.includes(alias)) {
      if (!known.includes(town)) known.push(town);
      plain = plain.split(alias).join('|');
    }
  }
  const other: string[] = [];
  // Place-shaped names (XX镇, XX街道, XX乡) left once the known towns are cut out.
  for (const { name } of placeRuns(plain)) if (!other.includes(name)) other.push(name);
  return { known, other };
}

// ---------------------------------------------------------------------------------------------
// Links

/**
 * A Markdown reference definition (`[1]: https://…`): whatever it points to, it turns the
 * answer's own citation markers into links, so it is never allowed.
 */
const REFERENCE_DEFINITION = /^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S.*$/gm;
/** An autolink (`<https://…>`, `<mailto:…>`, any scheme) and the target of an inline link `](…)`. */
const AUTOLINK = /<([a-z][a-z0-9+.-]{1,31}:[^<>\s]*)>/gi;
const INLINE_TARGET = /\]\(\s*<?([^)\s>]+)/g;
/** A bare URL, as renderers auto-link them (GitHub-style www. too); ends at space or CJK punctuation. */
const BARE_URL = /(?:\b[a-z][a-z0-9+.-]{1,31}:\/\/|\bwww\.)[^\s<>()\[\]"'，。、；：！？“”‘’（）【】《》]+/gi;

/**
 * Links an answer carries that the cited passages do not: every reference definition, and
 * autolinks, inline-link targets and bare URLs whose address is not in a cited passage's text.
 */
export function foreignLinks(answer: string, reference: string): string[] {
  const text = answer.normalize('NFKC');
  const problems: string[] = [];
  for (const m of text.matchAll(REFERENCE_DEFINITION)) problems.push(m[0].trim());
  const targets = [...text.matchAll(AUTOLINK)].map((m) => m[1]!).concat([...text.matchAll(INLINE_TARGET)].map((m) => m[1]!), [...text.matchAll(BARE_URL)].map((m) => m[0].replace(/[.,;:!?]+$/, '')));
  for (const target of targets) if (!reference.includes(target) && !problems.includes(target)) problems.push(target);
  return problems.map(clip);
}

// ---------------------------------------------------------------------------------------------

/** Runs every check on an answer. */
export function checkGrounding(input: GroundingInput): GroundingReport {
  const { answer, passages, knownTowns } = input;
  const sentences = splitAnswerSentences(answer);
  const cited = [...new Set(citedNumbers(answer))].sort((a, b) => a - b);
  const valid = cited.filter((n) => n >= 1 && n <= passages.length);
  const refusal = cited.length === 0 && sentences.length > 0 && sentences.every((s) => isExempt(s)) && REFUSAL.test(stripMarkers(answer));

  const results: CheckResult[] = [];

  // 1. Every [n] refers to a passage that was given.
  const outOfRange = cited.filter((n) => n < 1 || n > passages.length).map((n) => `[${n}]`);
  results.push({ name: 'citation-range', passed: outOfRange.length === 0, problems: outOfRange });

  // 2. Every sentence carries a citation (a statement that the reports lack the answer needs none).
  const uncited = sentences.filter((s) => citedNumbers(s).length === 0 && !isExempt(s));
  const empty = contentOf(answer).length === 0 ? ['(empty answer)'] : [];
  results.push({ name: 'sentence-citations', passed: uncited.length === 0 && empty.length === 0, problems: [...empty, ...uncited.map(clip)] });

  // 3. Every figure appears in a passage the answer cites.
  const reference = valid.map((n) => referenceOf(passages[n - 1]!)).join('\n');
  const referenceFigures = extractFigures(reference);
  const unsupported = [...new Set(extractFigures(answer).filter((f) => !isSupported(f, reference, referenceFigures)).map((f) => f.surface))];
  results.push({ name: 'numbers', passed: unsupported.length === 0, problems: unsupported });

  // 4. No town but those of the cited passages (or named in them).
  const citedTowns = new Set(valid.map((n) => passages[n - 1]!.town));
  const places = namedPlaces(answer, knownTowns);
  const foreign = [
    ...places.known.filter((t) => !citedTowns.has(t) && !townAliases(t).some((a) => reference.includes(a))),
    ...places.other.filter((p) => !reference.includes(p)),
  ];
  results.push({ name: 'towns', passed: foreign.length === 0, problems: foreign });

  // 5. No link but to an address a cited passage names, and no reference definition at all.
  const links = foreignLinks(answer, valid.map((n) => passages[n - 1]!.text.normalize('NFKC')).join('\n'));
  results.push({ name: 'links', passed: links.length === 0, problems: links });

  return { passed: results.every((r) => r.passed), results, cited, refusal };
}

function clip(sentence: string): string {
  return sentence.length > 60 ? `${sentence.slice(0, 60)}…` : sentence;
}

/**
 * Explains failed checks to the model, in Chinese, for its one retry: what was wrong, quoted, and
 * what to do instead.
 */
export function explainFailures(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.passed) continue;
    const items = r.problems.map((p) => `“${p}”`).join('、');
    switch (r.name) {
      case 'citation-range':
        lines.push(`引用编号 ${r.problems.join('')} 不存在:只能引用给出的段落编号。`);
        break;
      case 'sentence-citations':
        lines.push(`这些句子没有引用标注:${items}。每句话后面都必须标注 [n];没有段落支持的句子请删除。`);
        break;
      case 'numbers':
        lines.push(`这些数字在所引用的段落中找不到:${items}。数字必须与段落原文完全一致,并引用包含它的段落。`);
        break;
      case 'towns':
        lines.push(`回答提到了所引用段落以外的地名:${items}。只能写所引用段落涉及的镇。`);
        break;
      case 'links':
        lines.push(`回答包含所引用段落中没有的链接或链接定义:${items}。不要写任何网址、链接或 [n]: 形式的定义,只用 [n] 标注引用。`);
        break;
    }
  }
  return lines.join('\n');
}
