/** Tests for the grounding checks: citations in range, every sentence cited, figures and towns from the cited passages. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseChineseNumber } from '../domain/numbers.js';
import { checkGrounding, citedNumbers, explainFailures, extractFigures, splitAnswerSentences, type CheckedPassage } from './grounding-checks.js';

const TOWNS = ['梅李镇', '牛塘镇', '淀山湖镇', '临湖镇', '天生港镇街道'];

const PASSAGES: CheckedPassage[] = [
  {
    town: '牛塘镇',
    title: '牛塘镇人民政府工作报告',
    section: '2022年上半年工作回顾 > 二、克难求进,经济发展保持稳健态势',
    date: '2022-07-14',
    text: '半年来共申报国家高新技术企业35家,完成科技型中小型企业认定47家,认定市级高新技术产品10个。有序开展了9轮次全员核酸检测,设置采样点53个。首针接种率为83.2%。',
  },
  {
    town: '临湖镇',
    title: '临湖镇2022年工作总结和2023年工作计划',
    section: '二〇二三年工作目标和任务',
    date: '2023',
    text: '完成工业投资5.19亿元、增长57.3%。全年新增高标准农田1600亩。为74名创业女性发放小额贷款共计1520万元。',
  },
  { town: '梅李镇', title: '梅李镇2023年深化经济发达镇改革工作计划', section: '一、总体目标', date: '2023', text: '划分20个二级网格、76个三级网格。' },
];

const check = (answer: string, passages = PASSAGES) => checkGrounding({ answer, passages, knownTowns: TOWNS });
const failed = (answer: string) => check(answer).results.filter((r) => !r.passed).map((r) => r.name);

/** Writes a whole number in Chinese numerals, the long way (reference for the parser). */
function toChinese(n: number): string {
  const digits = '零一二三四五六七八九';
  const small = (x: number): string => {
    let out = '';
    let zero = false;
    for (const [unit, size] of [['千', 1000], ['百', 100], ['十', 10], ['', 1]] as const) {
      const d = Math.floor(x / size) % 10;
      if (d === 0) {
        if (out) zero = true;
        continue;
      }
      if (zero) out += '零';
      zero = false;
      out += digits[d] + unit;
    }
    return out;
  };
  if (n === 0) return '零';
  const high = Math.floor(n / 1e8);
  const mid = Math.floor(n / 1e4) % 1e4;
  const low = n % 1e4;
  let out = '';
  if (high) out += `${small(high)}亿`;
  if (mid) out += `${out && mid < 1000 ? '零' : ''}${small(mid)}万`;
  if (low) out += `${out && low < 1000 ? '零' : ''}${small(low)}`;
  return out;
}

describe('checkGrounding', () => {
  it('passes an answer whose every sentence is cited and whose figures and towns come from the cited passages', () => {
    const report = check('牛塘镇2022年上半年共申报国家高新技术企业35家[1]。临湖镇计划新增高标准农田一千六百亩[2]。');
    expect(report.passed).toBe(true);
    expect(report.cited).toEqual([1, 2]);
    expect(report.refusal).toBe(false);
  });

  it('catches a figure that is not in a cited passage, even when another passage holds it', () => {
    expect(failed('牛塘镇申报国家高新技术企业53家[1]。')).toEqual(['numbers']);
    // 1600亩 is in passage 2, not in the cited passage 1.
    expect(failed('牛塘镇新增高标准农田1600亩[1]。')).toEqual(['numbers']);
  });

  it('compares a figure with its unit: 35个 is not supported by 35家', () => {
    expect(failed('牛塘镇申报国家高新技术企业35个[1]。')).toEqual(['numbers']);
    expect(failed('牛塘镇申报国家高新技术企业35家[1]。')).toEqual([]);
  });

  it('accepts the same value written another way (Chinese numerals, 万, 百分之)', () => {
    expect(failed('牛塘镇申报国家高新技术企业三十五家,首针接种率为百分之八十三点二[1]。')).toEqual([]);
    expect(failed('临湖镇发放小额贷款共计1,520万元,即0.152亿元[2]。')).toEqual([]);
    expect(failed('报告写于二〇二二年七月[1]。')).toEqual([]);
  });

  it('catches a citation of a passage that was not given', () => {
    expect(failed('牛塘镇申报国家高新技术企业35家[1]。另认定高新技术产品10个[7]。')).toEqual(['citation-range']);
    expect(failed('牛塘镇申报国家高新技术企业35家[0][1]。')).toEqual(['citation-range']);
  });

  it('catches a sentence without a citation', () => {
    expect(failed('牛塘镇申报国家高新技术企业35家[1]。这说明创新动能很强。')).toEqual(['sentence-citations']);
    expect(failed('')).toContain('sentence-citations');
  });

  it('lets a line that introduces a list, and a statement that the reports lack something, go uncited', () => {
    expect(failed('牛塘镇的情况如下:\n- 申报国家高新技术企业35家[1]\n- 认定市级高新技术产品10个[1]')).toEqual([]);
    expect(failed('牛塘镇申报国家高新技术企业35家[1]。报告中没有提到获批的数量。')).toEqual([]);
  });

  it('reads an answer that only says the reports lack the answer as a refusal', () => {
    const report = check('现有报告中没有找到能回答这个问题的内容。');
    expect(report).toMatchObject({ passed: true, refusal: true });
  });

  it('catches a town other than those of the cited passages', () => {
    expect(failed('梅李镇申报国家高新技术企业35家[1]。')).toEqual(['towns']);
    expect(failed('淀山湖申报国家高新技术企业35家[1]。')).toEqual(['towns']);
    expect(failed('周庄镇申报国家高新技术企业35家[1]。')).toEqual(['towns']);
    // Towns of any cited passage are fine.
    expect(failed('梅李镇划分了20个二级网格[3],牛塘镇申报国家高新技术企业35家[1]。')).toEqual([]);
  });

  it('reads full-width and grouped markers', () => {
    expect(citedNumbers('35家［1］,47家[1,3]、【2】')).toEqual([1, 1, 3, 2]);
    expect(check('牛塘镇申报国家高新技术企业35家［1］。').passed).toBe(true);
  });

  it('explains each failure for the retry, quoting what was wrong', () => {
    const text = explainFailures(check('梅李镇申报了53家[9]。没有引用的一句话。').results);
    expect(text).toContain('[9]');
    expect(text).toContain('“53家”');
    expect(text).toContain('“梅李镇”');
    expect(text).toContain('没有引用的一句话');
  });

  it('passes any answer assembled from cited sentences of the passages (property)', () => {
    const sentences = PASSAGES.flatMap((p, i) => p.text.split('。').filter(Boolean).map((s) => ({ s, n: i + 1 })));
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...sentences), { minLength: 1, maxLength: 5 }), fc.boolean(), (picked, markerAfterStop) => {
        const answer = picked.map(({ s, n }) => (markerAfterStop ? `${s}。[${n}]` : `${s}[${n}]。`)).join('');
        expect(check(answer).passed).toBe(true);
      }),
    );
  });

  it('fails any figure that no cited passage states (property)', () => {
    const stated = new Set(extractFigures(PASSAGES[0]!.text).map((f) => f.value));
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10_000_000 }).filter((n) => !stated.has(n) && !PASSAGES[0]!.text.includes(String(n))), (n) => {
        expect(failed(`牛塘镇申报国家高新技术企业${n}家[1]。`)).toEqual(['numbers']);
      }),
    );
  });

  it('fails any marker beyond the passages given (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: PASSAGES.length + 1, max: 999 }), (n) => {
        expect(failed(`牛塘镇申报国家高新技术企业35家[1][${n}]。`)).toEqual(['citation-range']);
      }),
    );
  });
});

describe('parseChineseNumber', () => {
  it('reads Chinese numerals as the reference writes them (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999_999 }), (n) => {
        expect(parseChineseNumber(toChinese(n))).toBe(n);
      }),
    );
  });

  it('reads 十五, 两百, 二〇二三 and decimals, and rejects runs that are not one number', () => {
    expect(parseChineseNumber('十五')).toBe(15);
    expect(parseChineseNumber('两百')).toBe(200);
    expect(parseChineseNumber('二〇二三')).toBe(2023);
    expect(parseChineseNumber('八十三点二')).toBe(83.2);
    expect(parseChineseNumber('十四五')).toBeUndefined();
  });
});

describe('extractFigures', () => {
  it('takes figures with their units and leaves words that only contain numerals alone', () => {
    const figures = extractFigures('一体化进一步推进,三农工作,第一时间,十分重要,千万注意,两轮检查,1,520家,5.19亿元,83.2%');
    expect(figures.map((f) => [f.value, f.unit])).toEqual([
      [1520, '家'],
      [519_000_000, '元'],
      [83.2, '%'],
      [2, '轮'],
    ]);
  });
});

describe('splitAnswerSentences', () => {
  it('keeps markers and closing quotes with the sentence they follow', () => {
    expect(splitAnswerSentences('甲。[1]乙“丙”。[2][3]\n- 丁[1]\n戊')).toEqual(['甲。[1]', '乙“丙”。[2][3]', '- 丁[1]', '戊']);
  });
});
