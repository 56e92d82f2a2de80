/**
 * Follow-up questions: POST /api/ask takes `history` and answers the standalone question it
 * rewrites the follow-up into (by rules without an LLM, by the LLM when one is configured), and
 * says what it searched. Measured on the labelled dialogues in eval/follow-ups.jsonl.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFollowUps, parseFollowUpFile, runFollowUps, summarizeFollowUps } from '../../src/evaluate/follow-ups.js';
import { openTestService } from '../services.js';
import { openLlmService, parseSse, postJson, serve, type Served } from './llm-service.js';
import { isRewrite, passageWith, startScriptedLlm, type ScriptedLlmServer } from './scripted-llm-server.js';

const FIRST = { question: '牛塘镇2022年上半年发放了多少本安置房不动产证?', answer: '据牛塘镇《2022年上半年工作回顾》:半年发放安置房不动产证575本[1]。' };

describe('follow-ups without an LLM', () => {
  let app: Served;
  beforeAll(async () => {
    const { service, config } = await openTestService();
    app = await serve(service, config);
  });
  afterAll(() => app?.close());

  it('retrieves the same evidence as the standalone question in at least 80% of the labelled dialogues', async () => {
    const { service } = await openTestService();
    const items = parseFollowUpFile(fs.readFileSync('eval/follow-ups.jsonl', 'utf8'));
    expect(items.length).toBeGreaterThanOrEqual(20);
    const figures = summarizeFollowUps(await runFollowUps(service, items, 5));
    console.info(formatFollowUps(figures, 5));
    expect(figures.standaloneHits).toBeGreaterThanOrEqual(20);
    expect(figures.sameEvidence).toBeGreaterThanOrEqual(0.8);
    // Rewriting is what makes the difference: searched as typed, far fewer find it.
    expect(figures.rawHit).toBeLessThan(figures.rewrittenHit);
  });

  it('answers a follow-up as its standalone question and returns that question', async () => {
    const res = await postJson(`${app.base}/api/ask`, { question: '那下半年呢?', history: [FIRST] });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(Object.keys(body).sort()).toEqual(['answer', 'answerId', 'checks', 'citations', 'found', 'mode', 'reason', 'rewrittenQuestion', 'status', 'tookMs']);
    expect(body.rewrittenQuestion).toMatch(/^牛塘镇2022年下半年.*安置房/);
    // Issue 10: the report gives 下半年 no count of certificates to hand out, only 上半年's 575本
    // and the plan for 1364套 registrations: a partial answer, not a found one.
    expect(body).toMatchObject({ found: false, status: 'partial' });
    // The plan for the second half is among the passages the rewritten question finds.
    expect(body.citations.some((c: { text: string }) => c.text.includes('1364套安置房'))).toBe(true);
  });

  it('carries the town to a question that names none, and swaps it when the follow-up names one', async () => {
    const swapped = await (await postJson(`${app.base}/api/ask`, { question: '临湖镇呢?', history: [{ question: '牛塘镇2022年上半年开展了多少轮全员核酸检测?', answer: '有序开展了9轮次全员核酸检测[1]。' }] })).json();
    expect(swapped.rewrittenQuestion).toMatch(/^临湖镇.*核酸检测/);
    expect(swapped.citations[0].town).toBe('临湖镇');
    const carried = await (await postJson(`${app.base}/api/ask`, { question: '明年要建几家养老综合服务中心?', history: [{ question: '天生港镇街道2022年排查化解了多少起矛盾纠纷?', answer: '' }] })).json();
    expect(carried.rewrittenQuestion).toBe('天生港镇街道2023年要建几家养老综合服务中心?');
    expect(carried.answer).toContain('1家养老综合服务中心');
  });

  it('names the searched question in the stream meta event too', async () => {
    const res = await postJson(`${app.base}/api/ask/stream`, { question: '那下半年呢?', history: [FIRST] });
    const events = parseSse(await res.text());
    expect(events[0]!.data.rewrittenQuestion).toMatch(/^牛塘镇2022年下半年/);
    expect(events.at(-1)!.data.rewrittenQuestion).toBe(events[0]!.data.rewrittenQuestion);
  });

  it.each([
    ['not an array', { history: 'hi' }, /history: must be an array/],
    ['too many turns', { history: Array.from({ length: 11 }, () => FIRST) }, /at most 10 turns/],
    ['a turn without its question', { history: [{ answer: 'x' }] }, /history\[\]\.question/],
    ['a turn with an unknown key', { history: [{ ...FIRST, role: 'user' }] }, /unknown key "role"/],
    ['control characters', { history: [{ question: 'a\u0000b', answer: '' }] }, /control characters/],
  ])('rejects history that is %s with 400', async (_name, extra, message) => {
    const res = await postJson(`${app.base}/api/ask`, { question: '那下半年呢?', ...extra });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('E_BAD_REQUEST');
    expect(body.error.message).toMatch(message);
  });
});

describe('follow-ups with an LLM', () => {
  let llm: ScriptedLlmServer;
  let app: Served;
  const STANDALONE = '牛塘镇2022年下半年计划完成多少套安置房的初始登记?';

  beforeAll(async () => {
    llm = await startScriptedLlm();
    const { service, config } = await openLlmService(llm.baseUrl, 1500);
    app = await serve(service, config);
  });
  afterAll(async () => {
    await app?.close();
    await llm?.close();
  });

  it('lets the LLM rewrite the follow-up, with the history fenced as data', async () => {
    llm.play((request) =>
      isRewrite(request) ? { content: `改写后的问题:${STANDALONE}` } : { content: `牛塘镇下半年计划完成1364套安置房的初始登记和分割发证[${passageWith(request, '1364套')}]。` },
    );
    const body = await (await postJson(`${app.base}/api/ask`, { question: '那下半年呢?', history: [FIRST] })).json();
    expect(body.rewrittenQuestion).toBe(STANDALONE);
    expect(body).toMatchObject({ mode: 'llm', found: true });
    const rewrite = llm.requests[0]!.body.messages;
    expect(rewrite[1]!.content).toContain(`<question>${FIRST.question}</question>`);
    expect(rewrite[1]!.content).toContain('<question>那下半年呢?</question>');
    // The answer prompt asks the standalone question.
    expect(llm.requests[1]!.body.messages[1]!.content).toContain(`<question>\n${STANDALONE}\n</question>`);
  });

  it('falls back to the rules when the LLM cannot rewrite in time', async () => {
    llm.play((request) => (isRewrite(request) ? { timeout: true } : { status: 500 }));
    const body = await (await postJson(`${app.base}/api/ask`, { question: '那下半年呢?', history: [FIRST] })).json();
    expect(body.rewrittenQuestion).toMatch(/^牛塘镇2022年下半年.*安置房/);
    // Issue 10: the rule-based rewrite is answered partially, so the LLM is not asked to answer.
    expect(body).toMatchObject({ mode: 'extractive', found: false, status: 'partial', checks: { llm: 'skipped' } });
  });
});
