/**
 * The development PostgreSQL (PGlite over the wire): several `pg` clients at once, with
 * parameterised queries (extended protocol) interleaving, and a transaction that holds the one
 * backend for its own connection until it ends.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/store/postgres/embedded.js';

describe('embedded PostgreSQL server', () => {
  let server: EmbeddedPostgres;
  beforeAll(async () => {
    server = await startEmbeddedPostgres({ port: 0 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    return client;
  };

  it('answers eight clients sending parameterised queries at the same time, each its own answers', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, connect));
    // A parameter of a megabyte arrives in many TCP reads: with per-message multiplexing the
    // other clients' statements ran between its Parse and its Bind, and took its parameter.
    const big = 'x'.repeat(1_000_000);
    try {
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = 0; i < 10; i++) {
            if (c === 0) {
              const { rows } = await client.query<{ n: number }>('SELECT length($1::text) AS n', [big]);
              expect(rows).toEqual([{ n: 1_000_000 }]);
              continue;
            }
            const { rows } = await client.query<{ s: number; t: string }>('SELECT $1::int + $2::int AS s, $3::text AS t', [c, i, `c${c}-${i}`]);
            expect(rows).toEqual([{ s: c + i, t: `c${c}-${i}` }]);
          }
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('serves pgvector: a vector(3) column with an HNSW index orders by cosine distance', async () => {
    const client = await connect();
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      await client.query('CREATE TABLE items (id int PRIMARY KEY, v vector(3))');
      await client.query('CREATE INDEX ON items USING hnsw (v vector_cosine_ops)');
      await client.query("INSERT INTO items VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]')");
      const { rows } = await client.query<{ id: number }>('SELECT id FROM items ORDER BY v <=> $1 LIMIT 2', ['[1,0,0]']);
      expect(rows.map((r) => r.id)).toEqual([1, 3]);
    } finally {
      await client.end();
    }
  });

  it("keeps the backend for a connection's transaction: others see none of its rows or all of them", async () => {
    const setup = await connect();
    await setup.query('CREATE TABLE tx_rows (n int)');
    const writer = await connect();
    const readers = await Promise.all(Array.from({ length: 3 }, connect));
    try {
      await writer.query('BEGIN');
      await writer.query('INSERT INTO tx_rows VALUES ($1)', [1]);
      // Issued while the transaction is open: they wait for it.
      const reads = readers.map((r) => r.query<{ n: string }>('SELECT count(*) AS n FROM tx_rows WHERE n > $1', [0]));
      await writer.query('INSERT INTO tx_rows VALUES ($1), ($2)', [2, 3]);
      await writer.query('COMMIT');
      for (const result of await Promise.all(reads)) expect(['0', '3']).toContain(result.rows[0]!.n);
      expect((await readers[0]!.query('SELECT count(*) AS n FROM tx_rows')).rows[0].n).toBe('3');
    } finally {
      await Promise.all([setup, writer, ...readers].map((c) => c.end()));
    }
  });

  it('rolls back the transaction of a client that disconnects inside it, and serves the others', async () => {
    const setup = await connect();
    await setup.query('CREATE TABLE dropped (n int)');
    const quitter = await connect();
    quitter.on('error', () => {}); // its own connection's end, provoked below
    await quitter.query('BEGIN');
    await quitter.query('INSERT INTO dropped VALUES ($1)', [1]);
    const waiting = setup.query<{ n: string }>('SELECT count(*) AS n FROM dropped WHERE n >= $1', [0]);
    // Dropped without COMMIT (no Terminate message either).
    (quitter as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect((await waiting).rows[0]!.n).toBe('0');
    await setup.end();
  });
});
