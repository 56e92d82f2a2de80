import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { annotateSentence, figureKindOfUnit, stanceOfClause, type SentenceContext } from './sentence.js';

const review2019: SentenceContext = { role: 'review', sectionYears: [2019], sectionPath: ['一、2019年工作回顾'], reportYear: 2020 };
const plan2020: SentenceContext = { role: 'plan', sectionYears: [2020], sectionPath: ['二、2020年工作安排'], reportYear: 2020 };

describe('annotateSentence', () => {
  it('reads an estimate with its indicator and period, and a growth rate as belonging to it', () => {
    const a = annotateSentence('预计完成地区生产总值105亿元,同比增长4.37%。', review2019);
    expect(a.period.years).toEqual([2019]);
    expect(a.figures[0]).toMatchObject({ text: '105亿元', value: 105, unit: '亿元', kind: 'money', indicator: '地区生产总值', stance: 'estimate' });
    expect(a.figures[0]!.base).toEqual({ value: 10_500_000_000, unit: '元' });
    expect(a.figures[1]).toMatchObject({ kind: 'rate', indicator: '地区生产总值增长' });
  });

  it('reads a bare figure in a plan section as a target of the plan year', () => {
    const a = annotateSentence('地区生产总值107亿元。', plan2020);
    expect(a).toMatchObject({ stance: 'target', period: { years: [2020] } });
    expect(a.figures[0]).toMatchObject({ value: 107, indicator: '地区生产总值', stance: 'target' });
  });

  it('finds a deadline and what a measure word counts', () => {
    const a = annotateSentence('加快推进牛塘新园安置房办证工作,年内完成1364套安置房的初始登记和分割发证。', { role: 'plan', sectionYears: [2022], sectionPath: ['2022年下半年主要工作任务'] });
    expect(a.deadline).toBe('年内');
    expect(a.period).toEqual({ years: [2022], half: 'second' });
    expect(a.figures.find((f) => f.kind === 'count')).toMatchObject({ value: 1364, unit: '套', indicator: '安置房' });
  });

  it('does not take names and codes for figures: 5G, 12345平台, 二期, 十四五, 2023年', () => {
    const a = annotateSentence('推进5G基站建设,开通12345平台,实施“十四五”规划,项目二期于2023年开工。', review2019);
    expect(a.figures).toEqual([]);
  });

  it('reads Chinese numerals with measure words and keeps existing state as a figure', () => {
    const a = annotateSentence('现有20个二级网格、76个三级网格,办理业务一千三百件。', { role: 'other', sectionYears: [2023], sectionPath: [] });
    expect(a.figures.map((f) => [f.value, f.indicator])).toEqual([[20, '二级网格'], [76, '三级网格'], [1300, '办理业务']]);
  });

  it('tells a scheduled action in a review section from what was done', () => {
    const a = annotateSentence('卢家巷实验学校改扩建项目二期计划9月底前竣工,牛塘实验学校主体建设已完成。', { role: 'review', sectionYears: [2022], sectionPath: ['2022年上半年工作回顾'] });
    expect(a.stance).toBe('target');
    expect(a.figures).toHaveLength(1);
    expect(a.figures[0]).toMatchObject({ kind: 'date', value: 9, stance: 'target' });
  });

  it('takes a year the sentence compares with for no period of its own', () => {
    expect(annotateSentence('较2018年增长12%。', review2019).period.years).toEqual([2019]);
    expect(annotateSentence('今年新增就业岗位300个。', { ...review2019, reportYear: 2022 }).period.years).toEqual([2022]);
  });

  it('gives every figure offsets that point at its text, for any sentence', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('新增', '企业', '58家', '1.2亿元', '5G', ',', '。', '力争', '83.2%', '两个', '亩', '3000', '预计'), { maxLength: 20 }), (parts) => {
        const text = parts.join('');
        for (const f of annotateSentence(text, plan2020).figures) {
          expect(text.slice(f.start, f.end)).toBe(f.text);
          expect(Number.isFinite(f.value)).toBe(true);
        }
      }),
    );
  });
});

describe('units and stances', () => {
  it('knows the kind of each unit', () => {
    expect(['个', '亿元', '亩', '%', '公里', '小时'].map(figureKindOfUnit)).toEqual(['count', 'money', 'area', 'rate', 'length', 'duration']);
    expect(figureKindOfUnit('G')).toBeUndefined();
  });

  it('lets cue words override the section role', () => {
    expect(stanceOfClause('力争完成工业投资4亿元', 'review')).toBe('target');
    expect(stanceOfClause('按计划实施重点项目技改16个', 'review')).toBe('outcome');
    expect(stanceOfClause('累计完成投资3亿元', 'plan')).toBe('outcome');
    expect(stanceOfClause('完成投资3亿元', 'plan')).toBe('target');
  });
});
