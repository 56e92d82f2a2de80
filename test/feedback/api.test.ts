/**
 * Feedback, next questions, per-town settings and the staff lists (issue 16), over a real server
 * on 127.0.0.1 with the real QA service and the real embedding model: validation naming the bad
 * field, the rate limit, durability of the file store across a restart of the app, admin-only
 * access, and the CSV with its BOM.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAnswerCache } from '../../src/qa/cache.js';
import type { QaService } from '../../src/qa/service.js';
import type { Config } from '../../src/config.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { createFileFeedbackStore } from '../../src/feedback/store.js';
import { createApp, type AppDeps } from '../../src/server/app.js';
import { MAX_COMMENT_CHARS } from '../../src/server/feedback-routes.js';
import { testAdminDeps } from '../admin-deps.js';
import { loadTownsConfig } from '../../src/towns-config.js';
import { call, close, expectError, listen, parseSse, postJson } from '../http.js';
import { openTestService } from '../services.js';

const TOKEN = 'feedback-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const TOWNS_FILE = path.resolve('config/towns.json');

let service: QaService;
let config: Config;
let embedder: Embedder;
let dir = '';

/** The app as serve.ts builds it, on a feedback folder of its own. */
function appDeps(feedbackDir: string, extra: Partial<AppDeps> = {}): AppDeps {
  return {
    service,
    maxQuestionChars: config.maxQuestionChars,
    defaultTopK: config.defaultTopK,
    admin: testAdminDeps(service, { token: TOKEN, dir }),
    feedback: { store: createFileFeedbackStore({ dir: feedbackDir }), embed: (t) => embedder.embedQuery(t), towns: loadTownsConfig(TOWNS_FILE), perMinute: 0 },
    ...extra,
  };
}

function start(deps: AppDeps): Promise<{ server: Server; base: string }> {
  return listen(createApp(deps));
}

beforeAll(async () => {
  ({ service, config, embedder } = await openTestService());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-feedback-'));
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('answers carry an answerId that feedback refers to', () => {
  let server: Server;
  let base = '';
  // The answer cache of npm start: a repeated question is answered from it.
  let cached: ReturnType<typeof withAnswerCache>;
  beforeAll(async () => {
    cached = withAnswerCache(service, 100);
    ({ server, base } = await start({ ...appDeps(path.join(dir, 'one')), service: cached }));
  });
  afterAll(() => close(server));

  it('gives every /api/ask answer, a repeated (cached) one too, a fresh answerId', async () => {
    const a = await call(base, '/api/ask', postJson({ question: '牛塘镇上半年申报了多少家国家高新技术企业?' }));
    const hits = cached.cacheStats().hits;
    const b = await call(base, '/api/ask', postJson({ question: '牛塘镇上半年申报了多少家国家高新技术企业?' }));
    expect(cached.cacheStats().hits).toBe(hits + 1);
    expect(a.body.answerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.body.answerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.body.answerId).not.toBe(b.body.answerId);
    expect(b.body.answer).toBe(a.body.answer);
    expect(a.body.status).toBe('answered');
  });

  it('puts the answerId on the stream\'s done event', async () => {
    const reply = await call(base, '/api/ask/stream', postJson({ question: '梅李镇今年要建几个火箭发射场?', filters: { town: '梅李镇' } }));
    const done = parseSse(reply.raw).find((e) => e.event === 'done')!;
    expect(done.data.answerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(done.data.status).toBe('not_found');
    const rated = await call(base, '/api/feedback', postJson({ answerId: done.data.answerId, rating: 'down', reason: '没有回答我的问题' }));
    expect(rated.status).toBe(201);
  });

  it('refuses bad feedback with a 400 that names the field', async () => {
    const { body } = await call(base, '/api/ask', postJson({ question: '临湖镇2023年计划新增多少家规上企业?' }));
    const cases: Array<[unknown, RegExp]> = [
      [{ answerId: '00000000-0000-4000-8000-000000000000', rating: 'up' }, /^answerId: unknown answer/],
      [{ answerId: 'constructor', rating: 'up' }, /^answerId: unknown answer/],
      [{ rating: 'up' }, /^answerId/],
      [{ answerId: body.answerId, rating: 'meh' }, /^rating: must be "up" or "down"/],
      [{ answerId: body.answerId }, /^rating/],
      [{ answerId: body.answerId, rating: 'down', comment: '太'.repeat(MAX_COMMENT_CHARS + 1) }, /^comment: at most 500 characters/],
      [{ answerId: body.answerId, rating: 'down', comment: 42 }, /^comment/],
      [{ answerId: body.answerId, rating: 'down', reason: '随便' }, /^reason: must be one of/],
      [{ answerId: body.answerId, rating: 'down', email: 'a@b.c' }, /unknown field "email"/],
      [[body.answerId], /^body: must be a JSON object/],
    ];
    for (const [payload, message] of cases) {
      const reply = await call(base, '/api/feedback', postJson(payload));
      expectError(reply, 400, 'E_BAD_REQUEST');
      expect(reply.body.error.message).toMatch(message);
    }
    // A comment of exactly the limit is fine.
    const ok = await call(base, '/api/feedback', postJson({ answerId: body.answerId, rating: 'down', comment: '太'.repeat(MAX_COMMENT_CHARS) }));
    expect(ok.status).toBe(201);
    expectError(await call(base, '/api/feedback', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }), 415, 'E_BAD_REQUEST');
  });

  it('offers next questions about the same town that the service itself answers', async () => {
    const { body } = await call(base, '/api/ask', postJson({ question: '梅李镇2023年教育有什么打算?', filters: { town: '梅李镇' } }));
    const reply = await call(base, `/api/next-questions?answerId=${body.answerId}`);
    expect(reply.status).toBe(200);
    const questions: Array<{ question: string; town: string }> = reply.body.questions;
    expect(questions.length).toBeGreaterThanOrEqual(2);
    expect(questions.length).toBeLessThanOrEqual(3);
    for (const q of questions) {
      expect(q.town).toBe('梅李镇');
      expect(q.question).not.toBe('梅李镇2023年教育有什么打算?');
      const answered = await service.ask({ question: q.question, filters: { town: '梅李镇' } });
      expect(answered.status).toBe('answered');
    }
    expectError(await call(base, '/api/next-questions?answerId=nope'), 400, 'E_BAD_REQUEST');
  });

  it('serves each town\'s settings, the defaults for others, and settles a bare town name', async () => {
    const own = await call(base, `/api/widget-settings?town=${encodeURIComponent('梅李')}`);
    expect(own.body.settings).toMatchObject({ welcome: expect.stringContaining('梅李镇'), contact: expect.stringContaining('12345') });
    expect(own.body.settings.presets.length).toBeGreaterThan(0);
    const other = await call(base, `/api/widget-settings?town=${encodeURIComponent('不存在镇')}`);
    expect(other.body.settings.presets).toBeUndefined();
    expect(other.body.settings.contact).toBe('拨打12345政务服务便民热线');
    expectError(await call(base, '/api/widget-settings?x=1'), 400, 'E_BAD_REQUEST');
  });
});

describe('what staff see', () => {
  it('keeps ratings across a restart, lists them to the admin only, grouped by similar wording, as JSON and CSV with a BOM', async () => {
    const folder = path.join(dir, 'restart');
    let { server, base } = await start(appDeps(folder));
    const asked: string[] = [];
    for (const question of ['临湖镇地区生产总值是多少', '临湖镇GDP多少', '梅李镇今年要建几个火箭发射场?']) {
      const { body } = await call(base, '/api/ask', postJson({ question }));
      asked.push(body.answerId);
    }
    for (const [i, answerId] of asked.entries()) {
      const reply = await call(base, '/api/feedback', postJson({ answerId, rating: 'down', reason: '答案不对', comment: i === 2 ? '想知道航天产业' : undefined }));
      expect(reply.status).toBe(201);
    }
    const { body: good } = await call(base, '/api/ask', postJson({ question: '牛塘镇下半年要完成多少套安置房的初始登记?' }));
    expect((await call(base, '/api/feedback', postJson({ answerId: good.answerId, rating: 'up' }))).status).toBe(201);
    await close(server);

    // A new app on the same folder: what was acknowledged is still there.
    ({ server, base } = await start(appDeps(folder)));
    try {
      for (const route of ['/api/admin/feedback', '/api/admin/unanswered', '/api/admin/unanswered?format=csv']) {
        expectError(await call(base, route), 401, 'E_UNAUTHORIZED');
        expectError(await call(base, route, { headers: { authorization: 'Bearer wrong-token-wrong-token-000' } }), 401, 'E_UNAUTHORIZED');
      }
      const unanswered = await call(base, '/api/admin/unanswered', { headers: auth });
      expect(unanswered.status).toBe(200);
      expect(unanswered.body.grouping).toBe('embedding');
      const groups: Array<{ question: string; variants: string[]; count: number; towns: string[]; reasons: Record<string, number>; comments: string[]; firstAt: string; lastAt: string }> = unanswered.body.groups;
      // The two wordings of one question are one group; the 👍 is not in this list.
      const gdp = groups.find((g) => [g.question, ...g.variants].includes('临湖镇GDP多少'))!;
      expect([gdp.question, ...gdp.variants].sort()).toEqual(['临湖镇GDP多少', '临湖镇地区生产总值是多少']);
      expect(gdp).toMatchObject({ count: 2, towns: ['临湖镇'], reasons: { 答案不对: 2 } });
      expect(gdp.firstAt <= gdp.lastAt).toBe(true);
      const rocket = groups.find((g) => g.question === '梅李镇今年要建几个火箭发射场?')!;
      expect(rocket.comments).toEqual(['想知道航天产业']);
      expect(groups.some((g) => g.question.includes('安置房'))).toBe(false);
      const all = await call(base, '/api/admin/feedback', { headers: auth });
      expect(all.body.groups.some((g: { question: string; ratings: { up: number } }) => g.question.includes('安置房') && g.ratings.up === 1)).toBe(true);

      // Who read residents' questions is audited, refusals too.
      const audit = fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(audit.some((e) => e.action === 'unanswered.list' && e.outcome === 'ok')).toBe(true);
      expect(audit.some((e) => e.action === 'auth' && e.outcome === 'denied')).toBe(true);
      const csv = await call(base, '/api/admin/unanswered?format=csv', { headers: auth });
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      // fetch's text() drops a BOM: the bytes show it is there.
      const bytes = Buffer.from(await (await fetch(`${base}/api/admin/unanswered?format=csv`, { headers: auth })).arrayBuffer());
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      expect(csv.raw.startsWith('问题,相似问法,次数')).toBe(true);
      expect(csv.raw).toContain('梅李镇今年要建几个火箭发射场?');
      expect(csv.raw.split('\r\n').length).toBe(groups.length + 2);
      // The store is a JSON-lines file a person can read; nothing but what was asked and typed.
      const lines = fs.readFileSync(path.join(folder, 'feedback.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(4);
      const allowed = ['answer', 'answerId', 'at', 'citations', 'citedTown', 'comment', 'feedbackReason', 'kind', 'question', 'rating', 'ratedAt', 'reason', 'status', 'town'];
      for (const line of lines) for (const key of Object.keys(line)) expect(allowed).toContain(key);
      expect(lines[2]).toMatchObject({ kind: 'feedback', question: '梅李镇今年要建几个火箭发射场?', rating: 'down', feedbackReason: '答案不对', comment: '想知道航天产业', status: 'not_found', town: '梅李镇' });
    } finally {
      await close(server);
    }
  });

  it('does not keep question text without feedback unless LOG_QUESTIONS is on', async () => {
    const quiet = path.join(dir, 'quiet');
    let { server, base } = await start(appDeps(quiet));
    await call(base, '/api/ask', postJson({ question: '梅李镇今年要建几个火箭发射场?' }));
    expect(fs.existsSync(path.join(quiet, 'feedback.jsonl'))).toBe(false);
    await close(server);

    const logged = path.join(dir, 'logged');
    ({ server, base } = await start(appDeps(logged, { logQuestions: true })));
    try {
      await call(base, '/api/ask', postJson({ question: '梅李镇今年要建几个火箭发射场?' }));
      await call(base, '/api/ask', postJson({ question: '牛塘镇下半年要完成多少套安置房的初始登记?' }));
      const reply = await call(base, '/api/admin/unanswered', { headers: auth });
      expect(reply.body.groups.map((g: { question: string }) => g.question)).toEqual(['梅李镇今年要建几个火箭发射场?']);
    } finally {
      await close(server);
    }
  });

  it('limits feedback per client', async () => {
    const deps = appDeps(path.join(dir, 'limited'));
    const { server, base } = await start({ ...deps, feedback: { ...deps.feedback, perMinute: 2 } });
    try {
      const { body } = await call(base, '/api/ask', postJson({ question: '牛塘镇下半年要完成多少套安置房的初始登记?' }));
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await call(base, '/api/feedback', postJson({ answerId: body.answerId, rating: 'up' }))).status);
      expect(statuses).toEqual([201, 201, 429]);
      const limited = await call(base, '/api/feedback', postJson({ answerId: body.answerId, rating: 'up' }));
      expectError(limited, 429, 'E_RATE_LIMITED');
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await close(server);
    }
  });

  it('serves the staff page without the token in it, under a CSP without inline script', async () => {
    const { server, base } = await start(appDeps(path.join(dir, 'page')));
    try {
      const page = await call(base, '/admin/insights');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).not.toMatch(/unsafe-inline/);
      expect(page.raw).toContain('/assets/insights.js');
      expect(page.raw).not.toMatch(/<script>(?!<\/script>)/);
    } finally {
      await close(server);
    }
  });
});
