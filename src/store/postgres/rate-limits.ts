/**
 * Rate-limit hit counters in PostgreSQL (table rate_limits, migrations/002_rate_limits.sql), so
 * that every API replica on one database counts a client's requests together. A plain counter:
 * src/server/rate-limit.ts adapts it to express-rate-limit's Store.
 *
 * - Fixed windows per key: a key's window starts at its first hit and lasts windowMs; the hit
 *   that comes after it ends starts a new one (at 1). One upsert does the increment, so two
 *   replicas hitting one key at once both count (the row lock of ON CONFLICT DO UPDATE orders them).
 * - The database's clock decides windows, so replicas with skewed clocks agree.
 * - Expired rows are only ignored by reads; they are deleted now and then (prune), in the
 *   background of an increment.
 * - A small pool of its own with short timeouts: a database that is down or unreachable fails an
 *   increment within a couple of seconds (the caller decides what that means) instead of
 *   holding the request.
 */
import pg from 'pg';
import { AppError } from '../../errors.js';

/** A client's hits in its current window. */
export interface HitCount {
  totalHits: number;
  /** When the window ends and the count starts again. */
  resetTime: Date;
}

/** Counters shared by the processes that open them on one database. */
export interface HitCounter {
  /** Counts one hit of `key` in its window of `windowMs` (a new window when none is running). */
  increment(key: string, windowMs: number): Promise<HitCount>;
  /** Takes one hit back (never below 0; nothing when the window is over). */
  decrement(key: string): Promise<void>;
  /** Forgets `key`: its next hit starts a new window. */
  resetKey(key: string): Promise<void>;
  /** The key's current window, or undefined when none is running. */
  get(key: string): Promise<HitCount | undefined>;
  /** Forgets every key that starts with `prefix` (every key when empty). */
  resetAll(prefix: string): Promise<void>;
  /** Deletes the expired windows; returns how many. */
  prune(): Promise<number>;
  /** Closes the pool. */
  close(): Promise<void>;
}

export interface PostgresRateLimitOptions {
  /** postgres://… of the index store's database, migrated (npm run db:migrate). */
  connectionString: string;
  /** Connections in the pool. Default 2: each statement is one short round trip. */
  maxConnections?: number;
  /** Longest wait for a connection or a statement, in ms. Default 2000. */
  timeoutMs?: number;
  /** Expired windows are deleted at most this often, in ms. Default 60000. */
  pruneEveryMs?: number;
}

// Both branches of the CASE read the row as it was: a window that ended starts again at 1.
const INCREMENT = `
INSERT INTO rate_limits AS r (key, hits, reset_at)
VALUES ($1, 1, now() + make_interval(secs => $2::double precision / 1000))
ON CONFLICT (key) DO UPDATE SET
  hits = CASE WHEN r.reset_at <= now() THEN 1 ELSE r.hits + 1 END,
  reset_at = CASE WHEN r.reset_at <= now() THEN excluded.reset_at ELSE r.reset_at END
RETURNING hits, reset_at`;

/** Opens the counters on `connectionString` (no connection is made before the first call). */
export function createPostgresRateLimits(options: PostgresRateLimitOptions): HitCounter {
  const timeoutMs = options.timeoutMs ?? 2000;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 2,
    connectionTimeoutMillis: timeoutMs,
    // Client side, so it also covers a server that stopped answering mid-statement.
    query_timeout: timeoutMs,
  });
  // An idle connection dropping must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const pruneEveryMs = options.pruneEveryMs ?? 60_000;
  let lastPrune = Date.now();

  const query = async <R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[]): Promise<pg.QueryResult<R>> => {
    try {
      return await pool.query<R>(sql, params);
    } catch (cause) {
      throw new AppError('E_INTERNAL', `rate limits: ${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  };

  const prune = async (): Promise<number> => (await query('prune', 'DELETE FROM rate_limits WHERE reset_at <= now()', [])).rowCount ?? 0;

  return {
    async increment(key, windowMs) {
      if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new AppError('E_CONFIG', `rate limits: windowMs must be a positive number of ms, got ${windowMs}`);
      const r = await query<{ hits: number; reset_at: Date }>('increment', INCREMENT, [key, windowMs]);
      if (Date.now() - lastPrune >= pruneEveryMs) {
        lastPrune = Date.now();
        // In the background: the request does not wait, and a failure shows on the next increment.
        prune().catch(() => {});
      }
      const row = r.rows[0]!;
      return { totalHits: row.hits, resetTime: row.reset_at };
    },
    async decrement(key) {
      await query('decrement', 'UPDATE rate_limits SET hits = hits - 1 WHERE key = $1 AND hits > 0 AND reset_at > now()', [key]);
    },
    async resetKey(key) {
      await query('reset', 'DELETE FROM rate_limits WHERE key = $1', [key]);
    },
    async get(key) {
      const r = await query<{ hits: number; reset_at: Date }>('get', 'SELECT hits, reset_at FROM rate_limits WHERE key = $1 AND reset_at > now()', [key]);
      const row = r.rows[0];
      return row ? { totalHits: row.hits, resetTime: row.reset_at } : undefined;
    },
    async resetAll(prefix) {
      await query('reset all', 'DELETE FROM rate_limits WHERE starts_with(key, $1)', [prefix]);
    },
    prune,
    async close() {
      await pool.end();
    },
  };
}
