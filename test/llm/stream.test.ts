/**
 * POST /api/ask/stream with an LLM: the model's tokens stream as `delta` events; when the final
 * checks fail (or the model stalls), one `replace` event swaps in the fallback before `done`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedChecks, openLlmService, parseSse, postJson, serve, type Served } from './llm-service.js';
import { passageWith, startScriptedLlm, type ScriptedLlmServer } from './scripted-llm-server.js';

const QUESTION = '临湖镇2023年计划新增多少个智改数转项目?';
const EVIDENCE = '新增智改数转项目40个';

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

async function stream(question = QUESTION) {
  const res = await postJson(`${app.base}/api/ask/stream`, { question });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const events = parseSse(await res.text());
  const deltas = events.filter((e) => e.event === 'delta').map((e) => e.data.text as string);
  const replaces = events.filter((e) => e.event === 'replace').map((e) => e.data.text as string);
  const done = events.at(-1)!;
  expect(events[0]!.event).toBe('meta');
  expect(done.event).toBe('done');
  return { events, meta: events[0]!.data, deltas, replaces, done: done.data };
}

const good = (n: number) => `临湖镇2023年计划新增智改数转项目40个[${n}]。`;

describe('streaming with an LLM', () => {
  it("streams the model's tokens, and they add up to the final answer", async () => {
    llm.play((request) => ({ content: good(passageWith(request, EVIDENCE)) }));
    const { meta, deltas, replaces, done } = await stream();
    expect(meta.mode).toBe('llm');
    expect(meta.citations.length).toBe(5);
    expect(deltas.length).toBeGreaterThan(3); // token by token, not one block
    expect(replaces).toEqual([]);
    expect(deltas.join('')).toBe(done.answer);
    expect(done).toMatchObject({ mode: 'llm', found: true, checks: { llm: 'passed' } });
    expect(llm.requests[0]!.body.stream).toBe(true);
  });

  it('replaces the streamed text with the fallback when the final checks fail', async () => {
    llm.play((request) => ({ content: `临湖镇2023年计划新增智改数转项目400个[${passageWith(request, EVIDENCE)}]。` }));
    const { deltas, replaces, done } = await stream();
    expect(deltas.join('')).toContain('400个');
    expect(replaces).toHaveLength(1);
    expect(replaces[0]).toBe(done.answer);
    expect(done.answer).toContain('40个');
    expect(done.answer).not.toContain('400个');
    expect(done).toMatchObject({ mode: 'extractive', checks: { llm: 'fallback', reason: 'checks-failed' } });
    expect(done.checks.attempts.map(failedChecks)).toEqual([['numbers'], ['numbers']]);
  });

  it('replaces the streamed text with a retry that passes', async () => {
    llm.play((request, turn) => ({ content: turn === 0 ? '临湖镇2023年计划新增智改数转项目40个。' : good(passageWith(request, EVIDENCE)) }));
    const { replaces, done } = await stream();
    expect(replaces).toEqual([done.answer]);
    expect(done).toMatchObject({ mode: 'llm', checks: { llm: 'passed' } });
    expect(done.checks.attempts.map(failedChecks)).toEqual([['sentence-citations', 'numbers', 'towns'], []]);
  });

  it('replaces a stream that stalls with the fallback once the time-out passes', async () => {
    llm.play(() => ({ stallAfter: '临湖镇2023年计划' }));
    const { deltas, replaces, done } = await stream();
    expect(deltas.join('')).toBe('临湖镇2023年计划');
    expect(replaces).toEqual([done.answer]);
    expect(done).toMatchObject({ mode: 'extractive', checks: { llm: 'fallback', reason: 'timeout' } });
  });

  it('streams the fallback as ordinary deltas when the provider fails before any token', async () => {
    llm.play(() => ({ status: 500 }));
    const { deltas, replaces, done } = await stream();
    expect(replaces).toEqual([]);
    expect(deltas.join('')).toBe(done.answer);
    expect(done).toMatchObject({ mode: 'extractive', checks: { llm: 'fallback', reason: 'provider-error' } });
  });
});
