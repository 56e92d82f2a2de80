-- Rate-limit counters shared by every API replica on this database (src/store/postgres/rate-limits.ts):
-- one row per client key and limiter, with a fixed window that starts at the key's first hit.
-- UNLOGGED: the counters are worth less than their write-ahead log; after a crash PostgreSQL
-- empties the table, which only gives every client a fresh minute. (Unlogged tables are not
-- replicated to standbys: the replicas write to the primary, as the index store's writers do.)
CREATE UNLOGGED TABLE rate_limits (
  key text PRIMARY KEY,
  hits integer NOT NULL CHECK (hits >= 0),
  reset_at timestamptz NOT NULL
);

-- The pruning of expired windows scans by time.
CREATE INDEX rate_limits_reset_at ON rate_limits (reset_at);
