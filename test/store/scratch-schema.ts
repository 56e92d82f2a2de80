/**
 * A schema of its own on the real PostgreSQL named by TEST_DATABASE_URL, dropped afterwards:
 * that database may hold other data. The URL it returns puts the schema first on the search path.
 */
import pg from 'pg';

export async function scratchSchema(base: string, prefix: string): Promise<{ url: string; dispose(): Promise<void> }> {
  const schema = `${prefix}_${process.pid}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query('CREATE EXTENSION IF NOT EXISTS vector');
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema},public`);
  return {
    url: url.toString(),
    async dispose() {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
