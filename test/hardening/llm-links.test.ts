/**
 * Links in generated answers (real service and HTTP app, the scripted LLM as the model): a
 * Markdown reference definition (`[1]: https://evil.example/phish`, which would turn the citation
 * marker [1] into a link), an autolink and a bare URL that no cited passage names are refused by
 * the checks, and the extractive answer is given instead; the /v1 stream never shows them either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkGrounding, foreignLinks } from '../../src/answer/grounding-checks.js';
import { failedChecks, openLlmService, parseSse, postJson, serve, type Served } from '../llm/llm-service.js';
import { passageWith, startScriptedLlm, type ScriptedLlmServer } from '../llm/scripted-llm-server.js';

const QUESTION = '牛塘镇2022年上半年申报了多少家国家高新技术企业?';
const EVIDENCE = '申报国家高新技术企业35家';
const good = (n: number) => `牛塘镇2022年上半年共申报国家高新技术企业35家[${n}]。`;

let llm: ScriptedLlmServer;
let app: Served;

beforeAll(async () => {
  llm = await startScriptedLlm();
  const { service, config } = await openLlmService(llm.baseUrl, 1500);
  app = await serve(service, config);
});

afterAll(async () => {
  await app?.close();
  await llm?.close();
});

describe('links in an LLM answer', () => {
  const cases: Array<[string, (n: number) => string]> = [
    ['a reference definition after the answer', (n) => `${good(n)}\n\n[${n}]: https://evil.example/phish`],
    ['a reference definition with a title', (n) => `${good(n)}\n[${n}]: <https://evil.example/phish> "牛塘镇政府"`],
    ['an autolink', (n) => `${good(n)}详见<https://evil.example/phish>[${n}]。`],
    ['a bare URL', (n) => `${good(n)}详见 https://evil.example/phish [${n}]。`],
    ['a www address', (n) => `${good(n)}详见www.evil.example[${n}]。`],
    ['an inline link on the citation', (n) => `牛塘镇2022年上半年共申报国家高新技术企业35家[${n}](https://evil.example/phish)。`],
  ];

  it.each(cases)('refuses %s and falls back to the extractive answer', async (_name, reply) => {
    llm.play((request) => ({ content: reply(passageWith(request, EVIDENCE)) }));
    const res = await postJson(`${app.base}/api/ask`, { question: QUESTION });
    const body = await res.json();
    expect(body.mode).toBe('extractive');
    expect(body.checks.llm).toBe('fallback');
    expect(body.checks.reason).toBe('checks-failed');
    expect(body.checks.attempts.map(failedChecks)).toEqual([['links'], ['links']]);
    expect(body.answer).not.toMatch(/evil\.example/);
    // The retry told the model what was wrong.
    expect(llm.requests[1]!.body.messages.at(-1)!.content).toMatch(/链接/);
  });

  it('never streams a reference definition on /v1 either', async () => {
    llm.play((request) => ({ content: `${good(passageWith(request, EVIDENCE))}\n\n[1]: https://evil.example/phish` }));
    const res = await postJson(`${app.base}/v1/chat/completions`, { model: 'township-report-qa', stream: true, messages: [{ role: 'user', content: QUESTION }] });
    expect(res.status).toBe(200);
    const text = parseSse(await res.text())
      .filter((e) => e.data !== '[DONE]')
      .map((e) => e.data.choices?.[0]?.delta?.content ?? '')
      .join('');
    expect(text).not.toMatch(/evil\.example/);
    expect(text).toContain('35家');
  });

  it('keeps a grounded answer without links', async () => {
    llm.play((request) => ({ content: good(passageWith(request, EVIDENCE)) }));
    const body = await (await postJson(`${app.base}/api/ask`, { question: QUESTION })).json();
    expect(body.mode).toBe('llm');
    expect(body.checks.attempts.map(failedChecks)).toEqual([[]]);
  });
});

describe('foreignLinks', () => {
  const passage = { text: '详见镇政府网站 https://www.niutang.gov.cn/notice 的公示。', town: '牛塘镇', title: '报告', section: '一、', date: '2022-07-14' };

  it('lets through an address the cited passage itself gives, and nothing else', () => {
    expect(foreignLinks('公示见 https://www.niutang.gov.cn/notice [1]。', passage.text)).toEqual([]);
    expect(foreignLinks('公示见 https://www.niutang.gov.cn/other [1]。', passage.text)).toEqual(['https://www.niutang.gov.cn/other']);
    expect(foreignLinks('见<javascript:alert(1)>[1]。', passage.text)).toEqual(['javascript:alert(1)']);
  });

  it('refuses a reference definition even when its address is in the passage', () => {
    const report = checkGrounding({ answer: '公示见镇政府网站[1]。\n[1]: https://www.niutang.gov.cn/notice', passages: [passage], knownTowns: ['牛塘镇'] });
    expect(report.results.find((r) => r.name === 'links')).toMatchObject({ passed: false, problems: ['[1]: https://www.niutang.gov.cn/notice'] });
  });

  it('does not mistake citation markers, figures or Chinese text for links', () => {
    expect(foreignLinks('牛塘镇申报国家高新技术企业35家[1]、认定47家[1, 2]:完成率100%。', '')).toEqual([]);
  });
});
