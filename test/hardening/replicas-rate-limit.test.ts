/**
 * The rate limit shared by replicas: two real server processes (`npm start`'s entry point) with
 * INDEX_STORE=postgres on one embedded PostgreSQL (`npm run db:embedded`, filled by
 * `npm run db:import` from the test index), behind a "proxy" (TRUST_PROXY=loopback, the client
 * named by X-Forwarded-For). A client's requests through either replica, to /api or /v1, count
 * against one RATE_LIMIT_PER_MINUTE, not one per replica.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testIndexDir } from '../services.js';
import { call, childEnv, eventually, expectError, expectOrderlyExit, runEntry, scratch, startServer, stop, type Child } from './helpers.js';

const LIMIT = 4;
const CLIENT = '203.0.113.7';
const OTHER = '203.0.113.8';

let embedded: Child | undefined;
let url: string;
let work: { dir: string; remove: () => void } | undefined;
let replicas: Array<Child & { base: string }> = [];

beforeAll(async () => {
  embedded = runEntry('src/cli/db-embedded.ts', ['--port', '0'], childEnv({}));
  url = (await embedded.waitFor(/\{"event":"listening","url":"([^"]+)"/))[1]!;
  const importer = runEntry('src/cli/db.ts', ['import'], childEnv({ DATABASE_URL: url, INDEX_DIR: testIndexDir() }));
  await importer.waitFor(/imported and published/, 120_000);
  expect((await importer.exited).code).toBe(0);
  work = scratch('replicas-rate-limit');
  const env = {
    INDEX_STORE: 'postgres',
    DATABASE_URL: url,
    // Empty: whatever the replicas serve comes from the database.
    INDEX_DIR: path.join(work.dir, 'index'),
    FEEDBACK_DIR: path.join(work.dir, 'feedback'),
    EMBED_WORKERS: '1',
    ANSWER_CACHE_SIZE: '0',
    RATE_LIMIT_PER_MINUTE: String(LIMIT),
    TRUST_PROXY: 'loopback',
  };
  replicas = await Promise.all([startServer(env), startServer(env)]);
  for (const replica of replicas) await eventually(async () => (await call(replica.base, '/api/health/ready')).status === 200, 150_000);
}, 330_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => stop(r)));
  if (embedded) {
    embedded.process.kill('SIGTERM');
    await embedded.exited;
  }
  work?.remove();
});

const from = (ip: string): RequestInit => ({ headers: { 'x-forwarded-for': ip } });

describe('two replicas on one database', () => {
  it(`refuse a client's request ${LIMIT + 1} with 429 E_RATE_LIMITED, counting its requests through both, to /api and /v1`, async () => {
    const [a, b] = replicas as [Child & { base: string }, Child & { base: string }];
    for (let i = 0; i < LIMIT; i++) {
      const replica = i % 2 ? b : a;
      const route = i % 4 < 2 ? '/api/documents' : '/v1/models';
      expect((await call(replica.base, route, from(CLIENT))).status, `request ${i + 1} through ${i % 2 ? 'b' : 'a'} to ${route}`).toBe(200);
    }
    for (const [replica, route] of [
      [a, '/api/documents'],
      [b, '/v1/models'],
    ] as const) {
      const refused = await call(replica.base, route, from(CLIENT));
      expectError(refused, 429, 'E_RATE_LIMITED');
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    }
    // Another client has a budget of its own, on either replica; probes are never counted.
    expect((await call(b.base, '/api/documents', from(OTHER))).status).toBe(200);
    expect((await call(a.base, '/api/documents', from(OTHER))).status).toBe(200);
    expect((await call(a.base, '/api/health/live', from(CLIENT))).status).toBe(200);

    // The count lives in the database: every request of the client, refused ones too, once.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = (await client.query<{ key: string; hits: number }>('SELECT key, hits FROM rate_limits ORDER BY key')).rows;
      expect(rows).toEqual([
        { key: `api:${CLIENT}`, hits: LIMIT + 2 },
        { key: `api:${OTHER}`, hits: 2 },
      ]);
    } finally {
      await client.end();
    }
  }, 60_000);

  it('exits cleanly on SIGTERM, its rate-limit pool closed with the rest', async () => {
    const replica = replicas[0]!;
    replica.process.kill('SIGTERM');
    expectOrderlyExit(await replica.exited);
    expect(replica.output()).toContain('all connections closed: exiting');
  }, 30_000);
});
