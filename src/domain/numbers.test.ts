/**
 * Tests for the Chinese numeral reader: a reference writer (numbers → the way the reports write
 * them) read back, and agreement with the three copies it replaced (kept below verbatim, from
 * answer/grounding-checks.ts, commitments/targets.ts and annotate/sentence.ts) everywhere but
 * where they disagreed with each other.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseChineseNumber, parseYear, toBaseUnit } from './numbers.js';

// --- The copies as they were.
const D: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const S: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };
const L: Record<string, number> = { 万: 1e4, 亿: 1e8 };
function groundingCopy(run: string): number | undefined {
  const [whole, fraction] = run.split('点');
  if (!whole) return undefined;
  let value: number;
  if (![...whole].some((c) => c in S || c in L)) value = Number([...whole].map((c) => D[c]).join(''));
  else {
    let total = 0, wan = 0, section = 0;
    let digit: number | undefined;
    for (const c of whole) {
      if (c === '零' || c === '〇') {
        if (digit !== undefined) return undefined;
      } else if (c in D) {
        if (digit !== undefined) return undefined;
        digit = D[c]!;
      } else if (c in S) {
        section += (digit ?? 1) * S[c]!;
        digit = undefined;
      } else if (c === '万') {
        section += digit ?? 0;
        wan += (section || 1) * 1e4;
        section = 0;
        digit = undefined;
      } else if (c === '亿') {
        section += digit ?? 0;
        total = ((total + wan + section) || 1) * 1e8;
        wan = 0;
        section = 0;
        digit = undefined;
      }
    }
    value = total + wan + section + (digit ?? 0);
  }
  if (fraction) {
    const digits = [...fraction].map((c) => D[c]);
    if (digits.some((d) => d === undefined)) return undefined;
    value = Number(`${value}.${digits.join('')}`);
  }
  return Number.isFinite(value) ? value : undefined;
}
function targetsCopy(text: string): number | undefined {
  if (!text || !/^[零〇一二两三四五六七八九十百千万亿]+$/.test(text)) return undefined;
  if (/^[零〇一二两三四五六七八九]{2,}$/.test(text)) return Number([...text].map((c) => D[c]).join(''));
  let total = 0, section = 0;
  let digit: number | undefined;
  for (const c of text) {
    if (c in D) digit = D[c]!;
    else if (c in S) {
      section += (digit ?? 1) * S[c]!;
      digit = undefined;
    } else if (c in L) {
      total += (section + (digit ?? 0)) * L[c]!;
      section = 0;
      digit = undefined;
    }
  }
  return total + section + (digit ?? 0);
}
function sentenceCopy(text: string): number | undefined {
  if (!/^[零〇一二两三四五六七八九十百千]+$/.test(text)) return undefined;
  let section = 0;
  let digit: number | undefined;
  for (const c of text) {
    if (c in D) {
      if (digit !== undefined) return undefined;
      digit = D[c]!;
    } else {
      section += (digit ?? 1) * S[c]!;
      digit = undefined;
    }
  }
  return section + (digit ?? 0);
}
const SCALE: Array<[RegExp, number, string]> = [[/^亿(.+)$/, 1e8, '$1'], [/^万(.+)$/, 1e4, '$1']];
function targetsBaseCopy(value: number, unit: string): { value: number; unit: string } {
  for (const [re, factor, replacement] of SCALE) if (re.test(unit)) return { value: value * factor, unit: unit.replace(re, replacement) };
  if (unit === '个百分点') return { value, unit: '百分点' };
  return { value, unit };
}
function sentenceBaseCopy(value: number, multiplier: string, unit: string): { value: number; unit: string } {
  const factor = multiplier === '亿' ? 1e8 : multiplier === '万' ? 1e4 : 1;
  const baseUnit = unit.replace(/^(万|亿)(?=.)/, '');
  const baseFactor = factor * (unit.startsWith('万') && unit.length > 1 ? 1e4 : unit.startsWith('亿') && unit.length > 1 ? 1e8 : 1);
  return { value: Number((value * baseFactor).toPrecision(12)), unit: baseUnit };
}
// ---

/** The reference: how the reports write a whole number (一千三百六十四, 三万零五百, 十二, 一亿二千万). */
function write(n: number): string {
  const DIG = '零一二三四五六七八九';
  const below10k = (k: number, leading: boolean): string => {
    let out = '';
    let zero = false;
    for (const [unit, size] of [['千', 1000], ['百', 100], ['十', 10], ['', 1]] as const) {
      const d = Math.floor(k / size) % 10;
      if (d === 0) {
        if (out) zero = true;
        continue;
      }
      if (zero) out += '零';
      zero = false;
      out += unit === '十' && d === 1 && !out && leading ? '十' : DIG[d]! + unit;
    }
    return out;
  };
  if (n === 0) return '零';
  const parts: string[] = [];
  const yi = Math.floor(n / 1e8);
  const wan = Math.floor((n % 1e8) / 1e4);
  const rest = n % 1e4;
  if (yi) parts.push(below10k(yi, true) + '亿');
  if (wan) parts.push((yi && wan < 1000 ? '零' : '') + below10k(wan, !yi) + '万');
  if (rest) parts.push(((yi || wan) && rest < 1000 ? '零' : '') + below10k(rest, !yi && !wan));
  return parts.join('');
}

describe('parseChineseNumber', () => {
  it('reads the numerals the reports write', () => {
    expect(parseChineseNumber('两')).toBe(2);
    expect(parseChineseNumber('十二')).toBe(12);
    expect(parseChineseNumber('一千三百六十四')).toBe(1364);
    expect(parseChineseNumber('三万五千')).toBe(35000);
    expect(parseChineseNumber('一百零五')).toBe(105);
    expect(parseChineseNumber('八十三点二')).toBe(83.2);
    expect(parseChineseNumber('二〇二三')).toBe(2023);
    expect(parseChineseNumber('一万亿')).toBe(1e12);
  });

  it('refuses what is not one number', () => {
    for (const run of ['', '十四五', '十三五规划', '三点', '一点二点三', 'abc', '十x']) expect(parseChineseNumber(run), run).toBeUndefined();
    expect(parseChineseNumber('三五', { digitStrings: false })).toBeUndefined();
    expect(parseChineseNumber('五', { digitStrings: false })).toBe(5);
  });

  it('reads back every whole number the reference writes, up to a trillion', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 999_999_999_999 }), (n) => parseChineseNumber(write(n)) === n));
  });

  it('reads back decimals', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999 }), fc.stringMatching(/^[1-9]{1,3}$/), (n, frac) => {
        const run = `${write(n)}点${[...frac].map((d) => '零一二三四五六七八九'[Number(d)]).join('')}`;
        return parseChineseNumber(run) === Number(`${n}.${frac}`);
      }),
    );
  });

  const runOf = (alphabet: string, maxLength = 8) => fc.array(fc.constantFrom(...alphabet.split('')), { minLength: 1, maxLength }).map((cs) => cs.join(''));

  it('agrees with the grounding checks\' copy on every run their pattern can pass', () => {
    fc.assert(
      fc.property(runOf('零〇一二两三四五六七八九十百千万亿'), fc.option(runOf('零〇一二三四五六七八九', 3)), (whole, fraction) => {
        const run = fraction ? `${whole}点${fraction}` : whole;
        return Object.is(parseChineseNumber(run), groundingCopy(run));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the targets\' copy except where that one read 十四五 as 15, 零十 as 0 or 万 alone as 0', () => {
    fc.assert(
      fc.property(runOf('零〇一二两三四五六七八九十百千万亿'), (run) => {
        if (Object.is(parseChineseNumber(run), targetsCopy(run))) return true;
        // Two digits in a row in a positional form (十四五, 一百五零), a zero read as a multiplier
        // (零十 as 0), a 万/亿 with no digit before it (万, 十万亿 read as 0, 100000) or a 亿 after
        // a 万 or 亿, which multiplies what comes before (一万亿 is 10^12; the copy read 10000).
        return (/[十百千万亿]/.test(run) && /[零〇一二两三四五六七八九]{2}/.test(run)) || /[零〇][十百千万亿]/.test(run) || /(^|[十百千万亿])[万亿]/.test(run) || /[万亿].*亿/.test(run);
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the sentence annotations\' copy (bare digit strings refused) except for zeros in positional forms (一百零五)', () => {
    fc.assert(
      fc.property(runOf('零〇一二两三四五六七八九十百千'), (run) => {
        if (Object.is(parseChineseNumber(run, { digitStrings: false }), sentenceCopy(run))) return true;
        // A zero in a positional form: that copy read it as a digit (refusing 一百零五, reading 零百 as 0).
        return /[十百千]/.test(run) && /[零〇]/.test(run);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('parseYear', () => {
  it('reads four-digit years in either script', () => {
    expect(parseYear('2022')).toBe(2022);
    expect(parseYear('二〇二三')).toBe(2023);
    expect(parseYear('二零二二')).toBe(2022);
    expect(parseYear('二〇二')).toBeUndefined();
    expect(parseYear('两〇二三')).toBeUndefined();
    expect(parseYear('十四五')).toBeUndefined();
  });
});

describe('toBaseUnit', () => {
  it('folds 万 and 亿 into the value and reads 个百分点 as 百分点', () => {
    expect(toBaseUnit(1.2, '亿元')).toEqual({ value: 120_000_000, unit: '元' });
    expect(toBaseUnit(12000, '万元')).toEqual({ value: 120_000_000, unit: '元' });
    expect(toBaseUnit(5.19, '亿元')).toEqual({ value: 519_000_000, unit: '元' });
    expect(toBaseUnit(1.5, '万亿元')).toEqual({ value: 1.5e12, unit: '元' });
    expect(toBaseUnit(3, '个百分点')).toEqual({ value: 3, unit: '百分点' });
    expect(toBaseUnit(3, '万')).toEqual({ value: 3, unit: '万' });
  });

  const units = fc.constantFrom('元', '亿元', '万元', '万平方米', '平方米', '个', '万人次', '个百分点', '%', '亩', '万亩');
  const values = fc.double({ min: 0, max: 1e6, noNaN: true });
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

  it("agrees with the commitment targets' copy but for rounding", () => {
    fc.assert(fc.property(values, units, (v, u) => {
      const now = toBaseUnit(v, u);
      const before = targetsBaseCopy(v, u);
      return now.unit === before.unit && close(now.value, before.value);
    }));
  });

  it("agrees with the sentence annotations' copy but for 个百分点, which that copy kept", () => {
    fc.assert(fc.property(values, fc.constantFrom('', '万', '亿'), units, (v, m, u) => {
      const now = toBaseUnit(v, `${m}${u}`);
      const before = sentenceBaseCopy(v, m, u);
      return (now.unit === before.unit || (before.unit === '个百分点' && now.unit === '百分点')) && close(now.value, before.value);
    }));
  });
});
