/**
 * Chinese numerals as the reports write them: positional forms (三十五, 一千三百六十四, 三万五千,
 * 一百零五, 一万亿), decimals (八十三点二) and digit-by-digit forms (二〇二三). One reader for the
 * sentence annotations, the commitment targets and the grounding checks, so a figure is worth
 * the same wherever it is read. Pure, no I/O.
 */

/** The digits, 两 and the placeholder zeros (零, 〇) included. */
export const CN_DIGITS: Readonly<Record<string, number>> = Object.freeze({ 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 });
const CN_SMALL: Readonly<Record<string, number>> = { 十: 10, 百: 100, 千: 1000 };

/** Characters of a numeral's whole part, and of its fraction after 点 (no 两 there: 点两 is no decimal). */
const WHOLE = /^[零〇一二两三四五六七八九十百千万亿]+$/;
const FRACTION = /^[零〇一二三四五六七八九]+$/;
const DIGITS_ONLY = /^[零〇一二两三四五六七八九]+$/;

export interface ChineseNumberOptions {
  /**
   * Whether a run of two or more bare digits reads digit by digit (二〇二三 → 2023), as years and
   * codes are written. Off for amounts before a unit, where 三五个 is "three or five", not 35.
   * Default true.
   */
  digitStrings?: boolean;
}

/**
 * Reads a Chinese numeral: 三十五 → 35, 一千五百 → 1500, 三万五千 → 35000, 一百零五 → 105,
 * 八十三点二 → 83.2, 万 → 10000 and, unless `digitStrings` is off, 二〇二三 → 2023. Undefined
 * when the run is not one number: other characters, or two digits in a row in a positional
 * form (十四五 is the 14th five-year plan, not 15).
 */
export function parseChineseNumber(run: string, options: ChineseNumberOptions = {}): number | undefined {
  const [whole, fraction, ...rest] = run.split('点');
  if (!whole || !WHOLE.test(whole) || rest.length > 0 || (fraction !== undefined && !FRACTION.test(fraction))) return undefined;
  let value: number;
  if (DIGITS_ONLY.test(whole)) {
    if (whole.length > 1 && options.digitStrings === false) return undefined;
    value = Number([...whole].map((c) => CN_DIGITS[c]).join(''));
  } else {
    // total: what is complete up to 亿; wan: the 万 part; section: below 万.
    let total = 0;
    let wan = 0;
    let section = 0;
    let digit: number | undefined;
    for (const c of whole) {
      if (c === '零' || c === '〇') {
        // 一百零五: a placeholder between magnitudes.
        if (digit !== undefined) return undefined;
      } else if (c in CN_DIGITS) {
        if (digit !== undefined) return undefined; // 十四五: two digits in a row is not one number
        digit = CN_DIGITS[c]!;
      } else if (c in CN_SMALL) {
        section += (digit ?? 1) * CN_SMALL[c]!;
        digit = undefined;
      } else if (c === '万') {
        section += digit ?? 0;
        wan += (section || 1) * 1e4;
        section = 0;
        digit = undefined;
      } else {
        // 亿
        section += digit ?? 0;
        total = (total + wan + section || 1) * 1e8;
        wan = 0;
        section = 0;
        digit = undefined;
      }
    }
    value = total + wan + section + (digit ?? 0);
  }
  if (fraction) value = Number(`${value}.${[...fraction].map((c) => CN_DIGITS[c]).join('')}`);
  return Number.isFinite(value) ? value : undefined;
}

/** A year written in Chinese digits (二〇二三, 二零二二) or Arabic ones, as a number; undefined otherwise. */
export function parseYear(text: string): number | undefined {
  if (/^\d{4}$/.test(text)) return Number(text);
  if (text.length !== 4 || !DIGITS_ONLY.test(text) || text.includes('两')) return undefined;
  return parseChineseNumber(text);
}

/** Multipliers a unit may start with (亿元, 万平方米, 万人次). */
const SCALES: Readonly<Record<string, number>> = { 万: 1e4, 亿: 1e8 };

/**
 * A figure in its base unit, so 1.2亿元 and 12000万元 compare: leading 万/亿 folded into the
 * value (万亿元 → 元, ×10^12), 个百分点 read as 百分点; the value rounded to 12 significant
 * digits (5.19亿元 is 519000000 元, not 519000000.00000006).
 */
export function toBaseUnit(value: number, unit: string): { value: number; unit: string } {
  let factor = 1;
  let base = unit;
  while (base.length > 1 && base[0]! in SCALES) {
    factor *= SCALES[base[0]!]!;
    base = base.slice(1);
  }
  if (base === '个百分点') base = '百分点';
  return { value: Number((value * factor).toPrecision(12)), unit: base };
}
