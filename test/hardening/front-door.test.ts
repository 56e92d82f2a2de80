/**
 * One front door for /api and /v1, over real server processes (`npm start`'s entry point) on the
 * test index: one rate limit counted across both; only application/json with no charset or
 * charset=utf-8 (415 otherwise, utf-7 and utf-16 included); invalid UTF-8 refused on /v1 too; the
 * stream routes refuse before sending any header; ?__proto__= refused like ?constructor=. And,
 * in-process: the audit log of refused admin requests is bounded, and TRUST_PROXY decides whose
 * address the rate limit counts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditEvent } from '../../src/admin/audit.js';
import { loadConfig } from '../../src/config.js';
import { AppError } from '../../src/errors.js';
import { createApp } from '../../src/server/app.js';
import { openTestService, testIndexDir } from '../services.js';
import { call, close, eventually, expectError, listen, postJson, scratch, startServer, stop, type Child } from './helpers.js';

const QUESTION = '梅李镇有多少个三级网格?';
const chat = (content: string | Buffer, type = 'application/json'): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': type },
  body: typeof content === 'string' ? JSON.stringify({ model: 'township-report-qa', messages: [{ role: 'user', content }] }) : new Uint8Array(content),
});

let open: Child & { base: string };
let limited: Child & { base: string };

beforeAll(async () => {
  const env = { INDEX_DIR: testIndexDir(), EMBED_WORKERS: '1', ANSWER_CACHE_SIZE: '0' };
  [open, limited] = await Promise.all([startServer({ ...env, RATE_LIMIT_PER_MINUTE: '0' }), startServer({ ...env, RATE_LIMIT_PER_MINUTE: '3' })]);
  for (const server of [open, limited]) await eventually(async () => (await call(server.base, '/api/health/ready')).status === 200, 120_000);
}, 180_000);

afterAll(async () => {
  await Promise.all([stop(open), stop(limited)]);
});

describe('the rate limit (real server, RATE_LIMIT_PER_MINUTE=3)', () => {
  it('counts /v1 and /api together: the 4th request of the minute is 429, wherever it goes', async () => {
    for (let i = 0; i < 3; i++) expect((await call(limited.base, '/v1/chat/completions', chat(QUESTION))).status).toBe(200);
    const v1 = await call(limited.base, '/v1/chat/completions', chat(QUESTION));
    expectError(v1, 429, 'E_RATE_LIMITED');
    expect(v1.headers.get('retry-after')).toMatch(/^\d+$/);
    expectError(await call(limited.base, '/api/ask', postJson({ question: QUESTION })), 429, 'E_RATE_LIMITED');
    // Probes are never limited.
    expect((await call(limited.base, '/api/health/live')).status).toBe(200);
  });
});

describe('content types and charsets (real server)', () => {
  for (const route of ['/api/ask', '/api/ask/stream', '/v1/chat/completions']) {
    const body = route.startsWith('/v1') ? chat(QUESTION).body : JSON.stringify({ question: QUESTION });
    for (const type of ['application/json; charset=utf-16', 'application/json; charset=utf-7', 'application/json; charset=iso-8859-1', 'text/plain', 'application/x-www-form-urlencoded']) {
      it(`${route}: refuses ${type} with 415`, async () => {
        expectError(await call(open.base, route, { method: 'POST', headers: { 'content-type': type }, body }), 415, 'E_BAD_REQUEST');
      });
    }
    it(`${route}: takes application/json with no charset or charset=UTF-8`, async () => {
      for (const type of ['application/json', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"']) {
        const reply = await call(open.base, route, { method: 'POST', headers: { 'content-type': type }, body });
        expect(reply.status, type).toBe(200);
      }
    });
  }

  it('refuses a UTF-16 body on /v1 even though its JSON would parse', async () => {
    const utf16 = Buffer.from(JSON.stringify({ messages: [{ role: 'user', content: QUESTION }] }), 'utf16le');
    expectError(await call(open.base, '/v1/chat/completions', chat(utf16, 'application/json; charset=utf-16le')), 415, 'E_BAD_REQUEST');
  });

  it('refuses invalid UTF-8 inside /v1 message content with 400', async () => {
    const raw = Buffer.concat([Buffer.from('{"messages":[{"role":"user","content":"梅李镇'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]);
    const reply = await call(open.base, '/v1/chat/completions', chat(raw));
    expectError(reply, 400, 'E_BAD_REQUEST');
    expect(reply.body.error.message).toMatch(/UTF-8/);
  });
});

describe('stream routes validate before sending headers (real server)', () => {
  it('POST /api/ask/stream with an unknown town filter is a JSON 400, as /api/ask gives', async () => {
    const body = { question: QUESTION, filters: { town: '不存在镇' } };
    const plain = await call(open.base, '/api/ask', postJson(body));
    expectError(plain, 400, 'E_UNKNOWN_FILTER');
    const streamed = await call(open.base, '/api/ask/stream', postJson(body));
    expectError(streamed, 400, 'E_UNKNOWN_FILTER');
    expect(streamed.headers.get('content-type')).not.toMatch(/event-stream/);
    expect(streamed.body.error.message).toBe(plain.body.error.message);
  });

  it('a valid stream still starts with meta and ends with done', async () => {
    const reply = await call(open.base, '/api/ask/stream', postJson({ question: QUESTION }));
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(reply.raw.startsWith('event: meta\n')).toBe(true);
    expect(reply.raw).toMatch(/event: done\n/);
  });
});

describe('query strings (real server)', () => {
  it('refuses ?__proto__= like ?constructor=', async () => {
    const constructor = await call(open.base, '/api/search?q=%E7%BD%91%E6%A0%BC&constructor=x');
    const proto = await call(open.base, '/api/search?q=%E7%BD%91%E6%A0%BC&__proto__=x');
    expectError(constructor, 400, 'E_UNKNOWN_FILTER');
    expectError(proto, 400, 'E_UNKNOWN_FILTER');
    expect(proto.body.error.message).toMatch(/"__proto__"/);
    expect((await call(open.base, '/api/search?q=%E7%BD%91%E6%A0%BC')).status).toBe(200);
  });
});

describe('the audit log of refused admin requests is bounded', () => {
  it('writes at most maxDeniedPerMinute refusals a minute, then one line with the count', () => {
    const dir = scratch('audit-bound');
    try {
      const file = path.join(dir.dir, 'audit.jsonl');
      let clock = Date.parse('2026-01-01T00:00:00Z');
      const audit = createAuditLog({ file, maxDeniedPerMinute: 5, now: () => clock });
      for (let i = 0; i < 500; i++) audit.record({ actor: 'admin', via: 'http', action: 'auth', outcome: 'denied', ip: '203.0.113.9' });
      audit.record({ actor: 'staff', via: 'http', action: 'documents.list', outcome: 'ok' });
      const lines = () => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
      expect(lines()).toHaveLength(6);
      expect(lines().filter((e) => e.outcome === 'denied')).toHaveLength(5);
      clock += 60_000;
      audit.record({ actor: 'admin', via: 'http', action: 'auth', outcome: 'denied' });
      const after = lines();
      expect(after).toHaveLength(8);
      expect(after[6]!.detail).toMatchObject({ suppressed: 495 });
      expect(after[7]!.outcome).toBe('denied');
    } finally {
      dir.remove();
    }
  });

  it('bounds what unauthenticated requests to the admin API write (real app)', async () => {
    const dir = scratch('audit-app');
    const { service } = await openTestService();
    const file = path.join(dir.dir, 'audit.jsonl');
    const { createReportStore } = await import('../../src/admin/reports.js');
    const { createReindexer, createServiceHolder } = await import('../../src/server/service-holder.js');
    const holder = createServiceHolder();
    holder.swap(service);
    const app = createApp({
      service,
      maxQuestionChars: 500,
      defaultTopK: 5,
      admin: {
        token: 'x'.repeat(32),
        reports: createReportStore({ corpusDir: path.join(dir.dir, 'corpus') }),
        reindexer: createReindexer({ holder, rebuild: async () => ({ service }) } as never),
        audit: createAuditLog({ file }),
        getService: () => service,
        maxUploadBytes: 1024,
      },
    });
    const { server, base } = await listen(app);
    try {
      for (let i = 0; i < 100; i++) expect((await call(base, '/api/admin/documents', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(30);
    } finally {
      await close(server);
      dir.remove();
    }
  });
});

describe('TRUST_PROXY', () => {
  it('is off by default, takes a hop count or addresses, and refuses true', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(AppError);
    expect(() => loadConfig({ TRUST_PROXY: 'evil host' })).toThrow(/TRUST_PROXY/);
  });

  it('decides whose address the rate limit counts: the socket by default, X-Forwarded-For from a trusted proxy', async () => {
    const { service } = await openTestService();
    const ask = (base: string, ip: string) => call(base, '/api/health', { headers: { 'x-forwarded-for': ip } }).then(() => call(base, '/api/documents', { headers: { 'x-forwarded-for': ip } }));
    for (const [trustProxy, separate] of [[false, false], [['loopback'], true]] as const) {
      const { server, base } = await listen(createApp({ service, maxQuestionChars: 500, defaultTopK: 5, rateLimitPerMinute: 2, trustProxy }));
      try {
        expect((await ask(base, '198.51.100.1')).status).toBe(200);
        expect((await ask(base, '198.51.100.1')).status).toBe(200);
        expect((await ask(base, '198.51.100.1')).status).toBe(429);
        // Another client behind the proxy has its own budget only when the proxy is trusted.
        expect((await ask(base, '198.51.100.2')).status).toBe(separate ? 200 : 429);
      } finally {
        await close(server);
      }
    }
  });
});
