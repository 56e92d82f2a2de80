import { describe, expect, it } from 'vitest';
import { createTokenizer } from '../text/tokenize.js';
import { annotateQuestion, topicsOf, unknownPlaceIn } from './question.js';

const knownTowns = ['梅李镇', '牛塘镇', '淀山湖镇', '临湖镇', '天生港镇街道'];
// As a server reads questions: with its keyword tokenizer's segmenter (the corpus' words kept whole).
const segmenter = createTokenizer([...knownTowns, '千村美居']).segmenter;
const reportYears: Record<string, number> = { 淀山湖镇: 2020, 临湖镇: 2023, 牛塘镇: 2022 };
const read = (q: string) => annotateQuestion(q, { knownTowns, segmenter, reportYearOf: (t) => reportYears[t] });

describe('annotateQuestion', () => {
  it('reads town, year, stance, the asked figure and its indicator', () => {
    expect(read('淀山湖镇2020年计划地区生产总值达到多少?')).toMatchObject({
      towns: ['淀山湖镇'],
      period: { years: [2020] },
      stance: 'target',
      asks: { kind: 'money' },
      indicator: '地区生产总值',
    });
  });

  it('reads 今年 and 去年 against the town’s report date', () => {
    expect(read('临湖镇去年新增了多少家高新技术企业?').period.years).toEqual([2022]);
    expect(read('淀山湖镇今年计划完成多少工业投资?').period.years).toEqual([2020]);
  });

  it('lets outcome wording win over a plan period (下半年实际完成了多少)', () => {
    expect(read('牛塘镇下半年实际完成了多少套安置房初始登记?')).toMatchObject({ stance: 'outcome', period: { half: 'second' }, asks: { kind: 'count', measure: '套' } });
    expect(read('临湖镇2023年高校毕业生就业率最终达到多少?').stance).toBe('outcome');
  });

  it('tells the kinds of figure apart', () => {
    expect(read('淀山湖镇2019年三公经费下降了多少?').asks).toEqual({ kind: 'rate' });
    expect(read('临湖镇2023年打算新增多少亩高标准农田?').asks).toEqual({ kind: 'area' });
    expect(read('牛塘镇2022年上半年固定资产投资及增幅').asks).toEqual({ kind: 'figure' });
    expect(read('淀山湖镇2020年老街改造要启动第几期?').asks).toBeUndefined();
    expect(read('卢家巷实验学校二期几月份能完工?')).toMatchObject({ deadline: true });
    expect(read('卢家巷实验学校二期几月份能完工?').asks).toBeUndefined();
  });

  it('asks for a list only with a list word', () => {
    expect(read('梅李镇2023年在民生方面有哪些承诺?').list).toBe(true);
    expect(read('牛塘镇下半年计划做哪些事?').list).toBe(true);
    expect(read('牛塘镇下半年在光伏方面有什么安排?').list).toBe(false);
  });
});

describe('unknownPlaceIn', () => {
  it('finds a place that stands as a word, not one inside an ordinary word', () => {
    expect(unknownPlaceIn('周庄镇2023年计划建设多少公里道路?', knownTowns, segmenter)).toBe('周庄镇');
    expect(unknownPlaceIn('六如墩和东阳界的特色田园乡村建设怎么样?', knownTowns, segmenter)).toBeUndefined();
    expect(unknownPlaceIn('城镇登记失业率是多少?', knownTowns, segmenter)).toBeUndefined();
    expect(unknownPlaceIn('牛塘镇有多少企业?', knownTowns, segmenter)).toBeUndefined();
  });
});

describe('topicsOf', () => {
  it('keeps the nouns of the indicator, a specific one weighing more than a generic one', () => {
    const topics = topicsOf(read('临湖镇有没有滑雪场,在什么地方?').indicator, segmenter);
    const of = (w: string) => topics.find((t) => t.word === w)?.specificity;
    expect(of('滑雪场')).toBeGreaterThan(9);
    expect(of('地方')).toBeLessThan(6);
    expect(topics.some((t) => t.word.includes('临湖'))).toBe(false);
  });
});
