/**
 * The failures of issue 10, each with a question of our own, through the real model, the real
 * index of the shipped corpus and the real HTTP server: checks of period, plan or result and
 * figure kind; the three outcomes with their reasons; follow-ups that keep their own town and
 * wording; composition; and no question text reaching an object's prototype.
 */
import type { Server } from 'node:http';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QaService } from '../src/qa/service.js';
import { createApp } from '../src/server/app.js';
import { call, close, listen, postJson } from './http.js';
import { openTestService } from './services.js';

let service: QaService;
let server: Server;
let base: string;

beforeAll(async () => {
  const opened = await openTestService();
  service = opened.service;
  ({ server, base } = await listen(createApp({ service, maxQuestionChars: opened.config.maxQuestionChars, defaultTopK: opened.config.defaultTopK, logger: pino({ level: 'silent' }) })));
});
afterAll(() => close(server));

const ask = (question: string, extra: Record<string, unknown> = {}) => service.ask({ question, useLlm: false, ...extra });

describe('period and plan-or-result are checked (failure 4)', () => {
  it('answers the 2020 plan question with the 2020 target, not the 2019 estimate', async () => {
    const res = await ask('淀山湖镇2020年计划地区生产总值达到多少?');
    expect(res).toMatchObject({ found: true, status: 'answered' });
    expect(res.reason).toBeUndefined();
    expect(res.answer).toContain('107亿元');
    expect(res.answer).not.toContain('105亿元');
    const cited = res.citations.find((c) => res.answer.includes(`[${c.n}]`))!;
    expect(cited.role).toBe('plan');
  });

  it('refuses a result question the reports answer only with a target, quoting the target (plan-only)', async () => {
    const res = await ask('淀山湖镇2020年地区生产总值最终实际完成了多少?');
    expect(res).toMatchObject({ found: false, status: 'partial', reason: 'plan-only' });
    expect(res.answer).toContain('107亿元');
    expect(res.answer).toMatch(/目标/);
    expect(res.answer).toMatch(/没有完成情况/);
  });

  it('answers the 2019 outcome question with the 2019 estimate', async () => {
    const res = await ask('淀山湖镇2019年地区生产总值完成了多少?');
    expect(res.status).toBe('answered');
    expect(res.answer).toContain('105亿元');
  });

  it('refuses a plan question the reports answer only with a result (result-only)', async () => {
    // 天生港镇街道 reports 2022's 82处 demolished; its 2023 plan gives no such figure.
    const res = await ask('天生港镇街道2023年计划拆除多少处违法建设?');
    expect(res.found).toBe(false);
    expect(res.status).not.toBe('answered');
    expect(res.answer).not.toMatch(/^据/);
  });

  it('refuses a half-year the report does not hold (other-year)', async () => {
    const res = await ask('牛塘镇2022年全年规模以上工业产值是多少?');
    expect(res.found).toBe(false);
    expect(res.reason).toBe('other-year');
  });
});

describe('figures (failure 5)', () => {
  it('answers a rate asked for one indicator with that indicator’s rate', async () => {
    const res = await ask('牛塘镇60岁以上老人新冠疫苗全程接种率是多少?');
    expect(res.status).toBe('answered');
    expect(res.answer).toContain('76.5%');
  });

  it('does not answer a figure question with a sentence that has no figure for it (no-figure)', async () => {
    const res = await ask('淀山湖镇综合行政执法局有多少名执法人员?');
    expect(res.found).toBe(false);
    expect(['no-figure', 'low-confidence', 'not-mentioned']).toContain(res.reason);
  });
});

describe('filler words and paraphrases (failures 1 and 2)', () => {
  it('answers despite words the town’s report lacks (现在, 数量)', async () => {
    const res = await ask('牛塘镇现在上半年申报的国家高新技术企业数量是多少?');
    expect(res.status).toBe('answered');
    expect(res.answer).toContain('35家');
  });

  it('answers a resident’s paraphrase', async () => {
    const res = await ask('淀山湖镇去年给想自己创业的人一共放了多少贷款?');
    expect(res.status).toBe('answered');
    expect(res.answer).toContain('4008万元');
  });

  it('says a topic no report has is not mentioned, instead of offering a loosely related sentence', async () => {
    // No report names a ski slope (滑雪); 梅李镇's report has sports and leisure sentences that a
    // careless answer would quote.
    const res = await ask('梅李镇有没有滑雪场?');
    expect(res).toMatchObject({ found: false, status: 'not_found', reason: 'not-mentioned' });
    expect(res.answer).not.toMatch(/^据/);
  });
});

describe('composition (failures 3, 9, 10; item 6)', () => {
  it('never quotes a lead-in to a list as the answer', async () => {
    const res = await ask('梅李镇今年要重点做好哪些工作?');
    expect(res.answer).not.toContain('以下四方面工作');
  });

  it('answers a when-question with the sentence that names the deadline', async () => {
    const res = await ask('牛塘镇安置房的产权证什么时候能办下来?');
    expect(res.status).toBe('answered');
    expect(res.answer).toContain('年内');
    expect(res.answer).toContain('1364套');
  });

  it('gives each quote the lead-in of its own town', async () => {
    const res = await ask('临湖镇和淀山湖镇各新认定了多少家高新技术企业?');
    expect(res.found).toBe(true);
    // Every [n] is preceded, since the last lead-in, by 据<the cited passage's town>.
    for (const m of res.answer.matchAll(/\[(\d+)\]/g)) {
      const before = res.answer.slice(0, m.index);
      const lead = [...before.matchAll(/据([^《:]+?)(?:《|报告)/g)].at(-1)?.[1];
      expect(lead).toBe(res.citations[Number(m[1]) - 1]!.town);
    }
  });
});

describe('towns (failure 6) and other towns’ figures', () => {
  it('does not read a place name inside an ordinary word (特色田园乡村)', async () => {
    const res = await ask('淀山湖镇的特色田园乡村建设进展如何?');
    expect(res.answer).not.toContain('田园乡的');
    expect(res.status).toBe('answered');
  });

  it('says which town has a figure the asked town lacks, without quoting it (other-town)', async () => {
    const res = await ask('天生港镇街道2023年打算新增多少亩高标准农田?');
    expect(res).toMatchObject({ found: false, status: 'not_found' });
    expect(res.answer).not.toContain('1600');
    for (const c of res.citations) expect(c.town).toBe('天生港镇街道');
  });
});

describe('the commitment list answers list questions only (failure 7)', () => {
  it('answers a question about one named thing from retrieval, without a count', async () => {
    const res = await ask('牛塘镇下半年在光伏方面有什么安排?');
    expect(res.answer).not.toMatch(/共有1项/);
    expect(res.answer).toContain('光伏');
  });

  it('still lists promises when asked for a list', async () => {
    const res = await ask('梅李镇2023年在民生方面有哪些承诺?');
    expect(res.answer).toMatch(/的报告中的承诺.*:\n1\. /s);
    // No count: it is the book's, not a figure a cited passage states.
    expect(res.answer).not.toMatch(/共有\d+项/);
  });
});

describe('follow-ups never damage a question (failure 8)', () => {
  const history = [{ question: '淀山湖镇2020年计划地区生产总值达到多少?', answer: '据淀山湖镇《2020年主要任务》:地区生产总值107亿元[1]。' }];

  it('searches a question that names its own town and year as typed', async () => {
    const res = await ask('临湖镇2023年有哪些目标?', { history });
    expect(res.rewrittenQuestion).toBe('临湖镇2023年有哪些目标?');
    expect(res.answer).not.toMatch(/地区生产总值,有哪些目标/);
  });

  it('lets the town filter win over the history', async () => {
    const meili = [{ question: '梅李镇2023年要建成几个特色康居乡村?', answer: '据梅李镇报告:…[1]。' }];
    const res = await ask('2023年新增规上企业多少家?', { history: meili, filters: { town: '临湖镇' } });
    expect(res.rewrittenQuestion ?? '').not.toContain('梅李');
    for (const c of res.citations) expect(c.town).toBe('临湖镇');
    if (res.found) expect(res.answer).toContain('15家');
  });

  it('keeps the town of the conversation in an elliptical follow-up (那医院呢?)', async () => {
    const res = await ask('那医院呢?', { history: [{ question: '牛塘镇上半年学校建设情况怎么样?', answer: '…' }] });
    expect(res.rewrittenQuestion).toMatch(/牛塘/);
    for (const c of res.citations) expect(c.town).toBe('牛塘镇');
  });
});

describe('the HTTP contract shows the outcome (item 4)', () => {
  it('carries status and reason in /api/ask and in /v1/chat/completions', async () => {
    const plain = await call(base, '/api/ask', postJson({ question: '淀山湖镇2020年地区生产总值最终实际完成了多少?' }));
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ found: false, status: 'partial', reason: 'plan-only' });
    const answered = await call(base, '/api/ask', postJson({ question: '淀山湖镇2020年计划地区生产总值达到多少?' }));
    expect(answered.body).toMatchObject({ found: true, status: 'answered' });
    expect(answered.body).not.toHaveProperty('reason');
    const chat = await call(base, '/v1/chat/completions', postJson({ model: 'township-report-qa', messages: [{ role: 'user', content: '淀山湖镇2020年地区生产总值最终实际完成了多少?' }] }));
    expect(chat.status).toBe(200);
    expect(chat.body.report_qa).toMatchObject({ found: false, status: 'partial', reason: 'plan-only' });
    // The content says so before the text, and lists the quoted passage as its source.
    const content: string = chat.body.choices[0].message.content;
    expect(content.startsWith('**部分回答**(只有目标,没有完成情况)\n\n')).toBe(true);
    expect(content).toContain('**来源**');
  });
});

describe('no user text reaches an object’s prototype (failure 11, item 7)', () => {
  const PROTO = ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf', 'prototype', 'isPrototypeOf', '__defineGetter__', 'propertyIsEnumerable', 'toLocaleString'];

  it.each(PROTO.slice(0, 4))('answers a question containing %s without a 5xx', async (word) => {
    const reply = await call(base, '/api/ask', postJson({ question: `牛塘镇${word}有多少家企业?` }));
    expect(reply.status).toBe(200);
    expect(reply.body.status).toEqual(expect.any(String));
  });

  it('never answers 5xx to questions built from prototype names, CJK and ASCII', async () => {
    const cjk = fc.string({ unit: fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((c) => String.fromCharCode(c)), minLength: 0, maxLength: 6 });
    const word = fc.oneof(fc.constantFrom(...PROTO), cjk, fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('淀山湖镇', '牛塘', '2020年', '多少', '计划', '呢?'));
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 1, maxLength: 5 }), async (parts) => {
        const question = parts.join('').trim() || 'constructor';
        const reply = await call(base, '/api/ask', postJson({ question: question.slice(0, 200), history: [{ question: `${parts[0] ?? ''}多少?`, answer: 'x' }] }));
        expect(reply.status).toBeLessThan(500);
        const chat = await call(base, '/v1/chat/completions', postJson({ model: 'township-report-qa', messages: [{ role: 'user', content: question.slice(0, 200) }] }));
        expect(chat.status).toBeLessThan(500);
      }),
      { numRuns: 30 },
    );
  });
});
