/**
 * The rate-limit counters in PostgreSQL (src/store/postgres/rate-limits.ts), against PGlite served
 * over the wire by `npm run db:embedded` (a child process) and reached through `pg`; with
 * TEST_DATABASE_URL (a real PostgreSQL), against it too, in a schema of its own. Two counters
 * stand for two replicas: each has a pool of its own.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/postgres/migrate.js';
import { createPostgresRateLimits, type HitCounter } from '../../src/store/postgres/rate-limits.js';
import { childEnv, eventually, runEntry } from '../hardening/helpers.js';
import { scratchSchema } from './scratch-schema.js';

interface Database {
  url: string;
  dispose(): Promise<void>;
}

async function embedded(): Promise<Database> {
  const child = runEntry('src/cli/db-embedded.ts', ['--port', '0'], childEnv({}));
  const match = await child.waitFor(/\{"event":"listening","url":"([^"]+)"/);
  return {
    url: match[1]!,
    async dispose() {
      child.process.kill('SIGTERM');
      await child.exited;
    },
  };
}

function describeCounters(name: string, open: () => Promise<Database>): void {
  describe(`rate-limit counters: ${name}`, () => {
    let db: Database;
    let one: HitCounter;
    let two: HitCounter;
    let sql: pg.Client;
    let n = 0;
    /** A key no other test uses. */
    const fresh = (): string => `test:${process.pid}:${++n}`;

    beforeAll(async () => {
      db = await open();
      await migrate(db.url);
      one = createPostgresRateLimits({ connectionString: db.url });
      two = createPostgresRateLimits({ connectionString: db.url, maxConnections: 4 });
      sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
    }, 120_000);
    afterAll(async () => {
      await Promise.all([one?.close(), two?.close(), sql?.end()]);
      await db?.dispose();
    });

    it('counts a key from 1 within one fixed window, which every counter on the database sees', async () => {
      const key = fresh();
      expect(await one.get(key)).toBeUndefined();
      const first = await one.increment(key, 60_000);
      expect(first.totalHits).toBe(1);
      // The window ends a minute after the first hit, by the database's clock.
      const { rows } = await sql.query<{ ms: number }>('SELECT extract(epoch FROM reset_at - now()) * 1000 AS ms FROM rate_limits WHERE key = $1', [key]);
      expect(Number(rows[0]!.ms)).toBeGreaterThan(50_000);
      expect(Number(rows[0]!.ms)).toBeLessThanOrEqual(60_000);
      const second = await two.increment(key, 60_000);
      expect(second).toEqual({ totalHits: 2, resetTime: first.resetTime });
      expect(await one.get(key)).toEqual({ totalHits: 2, resetTime: first.resetTime });
      // Keys are independent.
      expect((await two.increment(fresh(), 60_000)).totalHits).toBe(1);
    });

    it('counts concurrent increments from two pools exactly: every total from 1 to N once', async () => {
      const key = fresh();
      const each = 60;
      const replies = await Promise.all(Array.from({ length: 2 * each }, (_, i) => (i % 2 ? one : two).increment(key, 60_000)));
      expect(replies.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual(Array.from({ length: 2 * each }, (_, i) => i + 1));
      expect(new Set(replies.map((r) => r.resetTime.getTime())).size).toBe(1);
      expect((await two.get(key))?.totalHits).toBe(2 * each);
    });

    it('starts a new window at 1 once the old one is over', async () => {
      const key = fresh();
      await one.increment(key, 300);
      const old = await two.increment(key, 300);
      expect(old.totalHits).toBe(2);
      // Over once the database's clock passes it: the counter then reads nothing.
      await eventually(async () => (await one.get(key)) === undefined, 10_000, 50);
      const next = await two.increment(key, 300);
      expect(next.totalHits).toBe(1);
      expect(next.resetTime.getTime()).toBeGreaterThan(old.resetTime.getTime());
    });

    it('takes a hit back with decrement, never below 0', async () => {
      const key = fresh();
      for (let i = 0; i < 3; i++) await one.increment(key, 60_000);
      await two.decrement(key);
      expect((await one.get(key))?.totalHits).toBe(2);
      for (let i = 0; i < 4; i++) await two.decrement(key);
      expect((await one.get(key))?.totalHits).toBe(0);
      expect((await one.increment(key, 60_000)).totalHits).toBe(1);
      // A key never counted stays uncounted.
      const other = fresh();
      await one.decrement(other);
      expect(await one.get(other)).toBeUndefined();
    });

    it('forgets one key with resetKey, and the keys of one prefix with resetAll', async () => {
      const key = fresh();
      const kept = fresh();
      await one.increment(key, 60_000);
      await one.increment(key, 60_000);
      await one.increment(kept, 60_000);
      await two.resetKey(key);
      expect(await one.get(key)).toBeUndefined();
      expect((await one.increment(key, 60_000)).totalHits).toBe(1);
      expect((await one.get(kept))?.totalHits).toBe(1);

      const prefix = `reset-all:${process.pid}:`;
      await one.increment(`${prefix}a`, 60_000);
      await one.increment(`${prefix}b`, 60_000);
      await two.resetAll(prefix);
      expect(await one.get(`${prefix}a`)).toBeUndefined();
      expect(await one.get(`${prefix}b`)).toBeUndefined();
      expect((await one.get(kept))?.totalHits).toBe(1);
    });

    it('prunes expired windows and keeps running ones', async () => {
      const expired = fresh();
      const running = fresh();
      await one.increment(expired, 200);
      await one.increment(running, 60_000);
      await eventually(async () => (await one.get(expired)) === undefined, 10_000, 50);
      const rowsOf = async (key: string): Promise<number> => Number((await sql.query('SELECT count(*) AS n FROM rate_limits WHERE key = $1', [key])).rows[0].n);
      // Read as over, but still stored until pruned.
      expect(await rowsOf(expired)).toBe(1);
      expect(await two.prune()).toBeGreaterThanOrEqual(1);
      expect(await rowsOf(expired)).toBe(0);
      expect(await rowsOf(running)).toBe(1);
    });

    it('prunes in the background of an increment, at most every pruneEveryMs', async () => {
      const pruning = createPostgresRateLimits({ connectionString: db.url, pruneEveryMs: 0 });
      try {
        const expired = fresh();
        await one.increment(expired, 100);
        await eventually(async () => (await one.get(expired)) === undefined, 10_000, 50);
        await pruning.increment(fresh(), 60_000);
        await eventually(async () => Number((await sql.query('SELECT count(*) AS n FROM rate_limits WHERE key = $1', [expired])).rows[0].n) === 0, 10_000, 50);
      } finally {
        await pruning.close();
      }
    });
  });
}

describeCounters('embedded PGlite over the wire', embedded);
const testDatabaseUrl = process.env['TEST_DATABASE_URL'];
if (testDatabaseUrl) describeCounters('TEST_DATABASE_URL', () => scratchSchema(testDatabaseUrl, 'rate_limits_test'));

describe('rate-limit counters: a database that does not answer', () => {
  it('fails an increment with E_INTERNAL naming the rate limits, instead of waiting', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const counter = createPostgresRateLimits({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, timeoutMs: 1000 });
    try {
      await expect(counter.increment('k', 60_000)).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringContaining('rate limits: increment failed') });
    } finally {
      await counter.close();
    }
  });

  it('refuses a window that is not a positive number of ms', async () => {
    const counter = createPostgresRateLimits({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' });
    try {
      await expect(counter.increment('k', 0)).rejects.toMatchObject({ code: 'E_CONFIG' });
    } finally {
      await counter.close();
    }
  });
});
