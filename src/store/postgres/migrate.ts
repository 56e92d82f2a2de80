/**
 * Schema migrations of the PostgreSQL index store: the numbered SQL files of ./migrations
 * (NNN_name.sql), applied in order, each once, inside one transaction under an advisory lock so
 * that two replicas starting together do not both apply them. Applied versions are recorded in
 * schema_migrations.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { AppError } from '../../errors.js';

/** The folder of the SQL files (beside this module). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migration files, by version. Throws E_CONFIG on a misnamed or duplicate file. */
export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = /^(\d{3})_([\w-]+)\.sql$/.exec(file);
      if (!m) throw new AppError('E_CONFIG', `db: migration file ${file} is not named NNN_name.sql`);
      return { version: Number(m[1]), name: m[2]!, sql: fs.readFileSync(`${dir}/${file}`, 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new AppError('E_CONFIG', `db: migrations must be numbered 001, 002, … without gaps; found ${String(m.version).padStart(3, '0')} at position ${i + 1}`);
  });
  return migrations;
}

/** An arbitrary constant naming this project's migration lock. */
const MIGRATION_LOCK = 7_318_204_551;

/** Applies the pending migrations; returns the versions applied now (empty when up to date). */
export async function migrate(connectionString: string, dir = MIGRATIONS_DIR): Promise<number[]> {
  const migrations = listMigrations(dir);
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (cause) {
    await client.query('ROLLBACK').catch(() => {});
    throw new AppError('E_CONFIG', `db: migration failed, nothing applied: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  } finally {
    await client.end();
  }
}

/** The highest migration applied to the database (0 when none), to refuse a schema older than the code. */
export async function schemaVersion(client: pg.ClientBase | pg.Pool): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (!exists.rows[0]?.t) return 0;
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return r.rows[0]?.v ?? 0;
}
