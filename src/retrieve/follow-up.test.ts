/** Tests for rule-based follow-up rewriting: what is carried from the previous turn, and what is swapped. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenizer } from '../text/tokenize.js';
import { rewriteFollowUp, type HistoryTurn } from './follow-up.js';

const TOWNS = ['梅李镇', '牛塘镇', '淀山湖镇', '临湖镇', '天生港镇街道'];
const SEGMENTER = createTokenizer(TOWNS).segmenter;
const after = (question: string): HistoryTurn[] => [{ question, answer: '……[1]。' }];
const rewrite = (question: string, previous: string, yearsOf?: (town: string) => readonly number[]) =>
  rewriteFollowUp(question, after(previous), TOWNS, SEGMENTER, yearsOf ? { yearsOf } : {});

describe('rewriteFollowUp', () => {
  it('leaves a question alone when there is no history', () => {
    expect(rewriteFollowUp('那下半年呢?', [], TOWNS, SEGMENTER)).toEqual({ question: '那下半年呢?', rewritten: false, carried: [] });
  });

  it('leaves a question that names its own town alone', () => {
    expect(rewrite('临湖镇2022年新增了多少家高新技术企业?', '牛塘镇2022年上半年申报了多少家国家高新技术企业?').rewritten).toBe(false);
  });

  it('swaps the period and turns a result question into a plan question: 那下半年呢?', () => {
    const r = rewrite('那下半年呢?', '牛塘镇2022年上半年申报了多少家国家高新技术企业?');
    expect(r.question).toBe('牛塘镇2022年下半年计划申报多少家国家高新技术企业?');
    expect(r.carried).toEqual(expect.arrayContaining(['town', 'year', 'topic']));
  });

  it('swaps the town: 梅李镇呢?', () => {
    expect(rewrite('梅李镇呢?', '牛塘镇2022年上半年申报了多少家国家高新技术企业?').question).toBe('梅李镇2022年上半年申报了多少家国家高新技术企业?');
  });

  it('drops a year the new town\'s reports do not cover', () => {
    const yearsOf = (town: string) => (town === '淀山湖镇' ? [2019, 2020] : [2022, 2023]);
    expect(rewrite('淀山湖镇呢?', '临湖镇2022年工业投资完成了多少?', yearsOf).question).toBe('淀山湖镇工业投资完成了多少?');
  });

  it('asks the new question of the previous subject: 这个目标完成了吗?', () => {
    expect(rewrite('这个目标完成了吗?', '临湖镇2023年计划新增多少个智改数转项目?').question).toBe('临湖镇2023年计划新增智改数转项目,目标完成了吗?');
    expect(rewrite('增长了多少?', '临湖镇2022年工业投资完成了多少?').question).toBe('临湖镇2022年工业投资完成了,增长了多少?');
  });

  it('puts a new subject in the previous frame: 那专利呢?', () => {
    expect(rewrite('环境信访呢?', '牛塘镇2022年上半年整改了多少起市容违章?').question).toBe('牛塘镇2022年上半年环境信访有多少?');
  });

  it('resolves 明年 and 去年 against the previous year', () => {
    expect(rewrite('明年呢?', '临湖镇2022年新建了多少亩高标准农田?').question).toBe('临湖镇2023年计划新建多少亩高标准农田?');
    expect(rewrite('明年要建几家养老综合服务中心?', '天生港镇街道2022年排查化解了多少起矛盾纠纷?').question).toBe('天生港镇街道2023年要建几家养老综合服务中心?');
  });

  it('carries the town to a question of its own that names none, in place of 镇上', () => {
    expect(rewrite('镇上给老人做了什么?', '牛塘镇2022年上半年申报了多少家国家高新技术企业?').question).toBe('牛塘镇给老人做了什么?');
  });

  it('resolves each earlier question against the one before it', () => {
    const history: HistoryTurn[] = [
      { question: '牛塘镇2022年上半年申报了多少家国家高新技术企业?', answer: '35家[1]。' },
      { question: '临湖镇呢?', answer: '58家[1]。' },
    ];
    expect(rewriteFollowUp('2023年呢?', history, TOWNS, SEGMENTER).question).toMatch(/^临湖镇2023年.*高新技术企业/);
  });

  it('always names the town a "X呢?" follow-up names, whatever came before (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TOWNS), fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom(...TOWNS), (town, topic, previousTown) => {
        const r = rewrite(`${town}呢?`, `${previousTown}${topic}`);
        expect(r.question.includes(town)).toBe(true);
      }),
    );
  });
});
