/** POST /api/ask/stream over a real server: server-sent events that add up to the /api/ask answer. */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { close, listen, parseSse } from '../http.js';
import { openTestService } from '../services.js';

let server: Server;
let base = '';

beforeAll(async () => {
  const { service, config } = await openTestService();
  ({ server, base } = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK })));
});

afterAll(() => close(server));

const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('POST /api/ask/stream', () => {
  it('streams meta, then text pieces that add up to the same answer as /api/ask, then done', async () => {
    const question = '临湖镇2023年计划新增多少个智改数转项目?';
    const res = await post('/api/ask/stream', { question });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events = parseSse(await res.text());
    expect(events[0]!.event).toBe('meta');
    expect(events[0]!.data.citations.length).toBeGreaterThan(0);
    expect(events.at(-1)!.event).toBe('done');
    const text = events.filter((e) => e.event === 'delta').map((e) => e.data.text).join('');
    const plain = await (await post('/api/ask', { question })).json();
    expect(text).toBe(plain.answer);
    expect(events.at(-1)!.data.answer).toBe(plain.answer);
    expect(events.at(-1)!.data).not.toHaveProperty('diagnostics');
    expect(text).toContain('40个');
  });

  it('rejects a bad request with an ordinary JSON error before any event', async () => {
    const res = await post('/api/ask/stream', { question: '   ' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('E_QUESTION_MISSING');
  });
});
