/**
 * The app's rate limits over shared counters, in-process (createApp on the real test service,
 * real HTTP on 127.0.0.1): two apps on one embedded PostgreSQL stand for two replicas; the
 * feedback limit is counted apart from the /api limit; a database that does not answer lets
 * requests through, with one warning in the log rather than one per request.
 */
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { migrate } from '../../src/store/postgres/migrate.js';
import { createPostgresRateLimits, type HitCounter } from '../../src/store/postgres/rate-limits.js';
import { call, close, expectError, listen, postJson } from '../http.js';
import { childEnv, runEntry, type Child } from '../hardening/helpers.js';
import { openTestService } from '../services.js';

let embedded: Child | undefined;
let url: string;
const counters: HitCounter[] = [];

beforeAll(async () => {
  embedded = runEntry('src/cli/db-embedded.ts', ['--port', '0'], childEnv({}));
  url = (await embedded.waitFor(/\{"event":"listening","url":"([^"]+)"/))[1]!;
  await migrate(url);
}, 120_000);

afterAll(async () => {
  await Promise.all(counters.map((c) => c.close()));
  if (embedded) {
    embedded.process.kill('SIGTERM');
    await embedded.exited;
  }
});

const counterOn = (connectionString: string): HitCounter => {
  const counter = createPostgresRateLimits({ connectionString, timeoutMs: 1000 });
  counters.push(counter);
  return counter;
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

describe('rate limits over shared counters (createApp)', () => {
  it('two apps on one database count /api, /v1 and feedback per client together, feedback apart from /api', async () => {
    const { service } = await openTestService();
    // express-rate-limit reports its configuration mistakes (a key counted twice by one request) here.
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const apps = await Promise.all(
      [counterOn(url), counterOn(url)].map((counter) =>
        listen(createApp({ service, maxQuestionChars: 500, defaultTopK: 5, rateLimitPerMinute: 3, rateLimitCounter: counter, trustProxy: ['loopback'], feedback: { perMinute: 1 }, logger })),
      ),
    );
    const [a, b] = apps.map((x) => x.base) as [string, string];
    const from = (ip: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), 'x-forwarded-for': ip } });
    try {
      expect((await call(a, '/api/documents', from('198.51.100.20'))).status).toBe(200);
      expect((await call(b, '/v1/models', from('198.51.100.20'))).status).toBe(200);
      // A feedback post counts against both limits: the third /api request, the first feedback.
      const rated = await call(b, '/api/feedback', from('198.51.100.20', postJson({ answerId: 'no-such-answer', rating: 'up' })));
      expect(rated.status).toBe(400);
      // The feedback limit (1) is reached through the other app, the /api limit (3) is not yet passed.
      expectError(await call(a, '/api/feedback', from('198.51.100.21', postJson({ answerId: 'x', rating: 'up' }))), 400, 'E_BAD_REQUEST');
      expectError(await call(b, '/api/feedback', from('198.51.100.21', postJson({ answerId: 'x', rating: 'up' }))), 429, 'E_RATE_LIMITED');
      // The 4th /api request of 198.51.100.20, through either app.
      const refused = await call(a, '/api/documents', from('198.51.100.20'));
      expectError(refused, 429, 'E_RATE_LIMITED');
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await call(b, '/api/documents', from('198.51.100.22'))).status).toBe(200);
      expect(lines).toEqual([]);
    } finally {
      await Promise.all(apps.map((x) => close(x.server)));
    }
  });

  it('lets requests through while the database does not answer, with one warning, not one per request', async () => {
    const { service } = await openTestService();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const dead = counterOn(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`);
    const { server, base } = await listen(createApp({ service, maxQuestionChars: 500, defaultTopK: 5, rateLimitPerMinute: 1, rateLimitCounter: dead, logger }));
    try {
      for (let i = 0; i < 3; i++) expect((await call(base, '/api/documents')).status).toBe(200);
      const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; unlimited?: number }).filter((l) => l.msg.includes('shared counter failed'));
      expect(warnings).toEqual([expect.objectContaining({ level: 40, unlimited: 1 })]);
    } finally {
      await close(server);
    }
  });
});
