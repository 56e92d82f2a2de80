/**
 * The index store contract against PostgreSQL: PGlite with pgvector served over the wire by
 * `npm run db:embedded` in a child process, reached through `pg` as production would be, filled
 * with the real test index by the importer. With TEST_DATABASE_URL (a real PostgreSQL with
 * pgvector), the same suite runs there too, in a schema of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { importFileIndex } from '../../src/store/import.js';
import { listMigrations, migrate } from '../../src/store/postgres/migrate.js';
import { createPostgresStore } from '../../src/store/postgres/store.js';
import fs from 'node:fs';
import path from 'node:path';
import { parseEvalFile } from '../../src/evaluate/metrics.js';
import { call, childEnv, eventually, postJson, runEntry, scratch, startServer, stop, type Child } from '../hardening/helpers.js';
import { openTestService, testIndexDir } from '../services.js';
import { describeIndexStore, loadReference, type StoreHarness } from './contract.js';
import { scratchSchema } from './scratch-schema.js';

/** Starts `npm run db:embedded -- --port 0` and returns its URL. */
async function startEmbedded(): Promise<{ url: string; child: Child }> {
  const child = runEntry('src/cli/db-embedded.ts', ['--port', '0'], childEnv({}));
  const match = await child.waitFor(/\{"event":"listening","url":"([^"]+)"/);
  return { url: match[1]!, child };
}

async function stopChild(child: Child): Promise<void> {
  child.process.kill('SIGTERM');
  await child.exited;
}

/** Migrates `url`, imports the test index, and returns a harness over it. */
async function harnessOver(url: string, stop: () => Promise<void>): Promise<StoreHarness> {
  const ref = await loadReference();
  await migrate(url);
  const options = { connectionString: url, embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension };
  const importer = createPostgresStore(options);
  await importFileIndex(ref.index, importer);
  await importer.close();
  return {
    async open() {
      return createPostgresStore(options);
    },
    async damage() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('DELETE FROM sentences WHERE generation_id = (SELECT generation_id FROM published_generation) AND chunk_ord = 0 AND k = 0');
      } finally {
        await client.end();
      }
    },
    dispose: stop,
  };
}

describeIndexStore('postgres (embedded PGlite over the wire)', async () => {
  const { url, child } = await startEmbedded();
  return harnessOver(url, () => stopChild(child));
});

const external = process.env['TEST_DATABASE_URL'];
if (external) {
  describeIndexStore('postgres (TEST_DATABASE_URL)', async () => {
    const { url, dispose } = await scratchSchema(external, 'index_store_test');
    return harnessOver(url, dispose);
  });
}

describe('postgres store: schema, first import, a writer killed mid-generation', () => {
  let embedded: { url: string; child: Child };
  beforeAll(async () => {
    embedded = await startEmbedded();
  });
  afterAll(async () => {
    if (embedded) await stopChild(embedded.child);
  });

  it('says what to run before the schema exists and before anything is published; migrations apply once', async () => {
    const ref = await loadReference();
    const store = createPostgresStore({ connectionString: embedded.url, embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension });
    try {
      await expect(store.snapshot()).rejects.toMatchObject({ code: 'E_INDEX_MISSING', message: expect.stringContaining('npm run db:migrate') });
      expect(await migrate(embedded.url)).toEqual(listMigrations().map((m) => m.version));
      expect(await migrate(embedded.url)).toEqual([]);
      await expect(store.snapshot()).rejects.toMatchObject({ code: 'E_INDEX_MISSING', message: expect.stringContaining('npm run ingest') });
      expect(await store.publishedGeneration()).toBeUndefined();
      expect(await importFileIndex(ref.index, store)).toMatchObject({ generation: ref.index.manifest.indexVersion, imported: true });
      // Importing the published generation again writes nothing.
      expect(await importFileIndex(ref.index, store)).toEqual({ generation: ref.index.manifest.indexVersion, imported: false });
      expect((await store.snapshot()).generation.id).toBe(ref.index.manifest.indexVersion);
    } finally {
      await store.close();
    }
  }, 180_000);

  it('leaves the published generation serving, and the next writer removes its rows', async () => {
    const ref = await loadReference();
    const name = `gen-killed-${process.pid}`;
    const writer = runEntry('test/store/write-and-hang.ts', [embedded.url, testIndexDir(), name], childEnv({}));
    await writer.waitFor(/written, hanging/);
    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    const rowsOf = async (): Promise<number> =>
      Number((await client.query('SELECT count(*) AS n FROM chunks c JOIN generations g ON g.id = c.generation_id WHERE g.name = $1', [name])).rows[0].n);
    try {
      expect(await rowsOf()).toBe(20);
      const store = createPostgresStore({ connectionString: embedded.url, embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension });
      try {
        // While the writer lives, another writer is refused.
        await expect(store.beginGeneration({ embeddingModel: 'm', dimension: 512, pipelineVersion: 'p' })).rejects.toMatchObject({ code: 'E_BUSY' });
        writer.process.kill('SIGKILL');
        await writer.exited;
        expect((await store.snapshot()).generation.id).toBe(ref.index.manifest.indexVersion);
        const next = await store.beginGeneration({ embeddingModel: 'm', dimension: 512, pipelineVersion: 'p' });
        expect(await rowsOf()).toBe(0);
        expect(Number((await client.query('SELECT count(*) AS n FROM generations WHERE name = $1', [name])).rows[0].n)).toBe(0);
        await next.abort();
        expect((await store.snapshot()).generation.id).toBe(ref.index.manifest.indexVersion);
      } finally {
        await store.close();
      }
    } finally {
      await client.end();
    }
  });
});

describe('npm run db:migrate and db:import', () => {
  let embedded: { url: string; child: Child };
  beforeAll(async () => {
    embedded = await startEmbedded();
  });
  afterAll(async () => {
    if (embedded) await stopChild(embedded.child);
  });

  it('migrates, copies the file index and publishes it under the same generation name; a second import does nothing', async () => {
    const ref = await loadReference();
    const env = childEnv({ DATABASE_URL: embedded.url, INDEX_DIR: testIndexDir() });
    const run = async (args: string[], pattern: RegExp): Promise<void> => {
      const child = runEntry('src/cli/db.ts', args, env);
      await child.waitFor(pattern);
      expect((await child.exited).code).toBe(0);
    };
    await run(['migrate'], /applied migration\(s\) 1/);
    await run(['migrate'], /schema up to date/);
    const generation = ref.index.manifest.indexVersion;
    await run(['import'], new RegExp(`imported and published ${generation} \\(${ref.index.documents.length} documents, ${ref.index.chunks.length} chunks\\)`));
    await run(['import'], new RegExp(`${generation} is already the published generation`));
    const store = createPostgresStore({ connectionString: embedded.url, embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension });
    try {
      const snap = await store.snapshot();
      expect(snap.generation).toMatchObject({ id: generation, chunks: ref.index.chunks.length, sentences: ref.index.sentenceEmbeddings.length });
    } finally {
      await store.close();
    }
    // Four child processes, each loading tsx (and one the index): slow on a busy machine.
  }, 180_000);

  it("migrations 003 and 004 give the postings of a generation written before them their chunks' towns and lengths, and searches are unchanged", async () => {
    // Runs after the import above: the database holds the test index's generation.
    const ref = await loadReference();
    const store = createPostgresStore({ connectionString: embedded.url, embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension });
    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    try {
      const town = ref.index.chunks[0]!.town;
      const tokens = [...new Set(ref.questions.flatMap((q) => q.tokens))];
      const dated = ref.index.chunks.find((c) => c.years.length > 0)!;
      const search = async () => {
        const snap = await store.snapshot();
        return [await snap.searchKeywords(tokens, 40, { towns: [town] }), await snap.searchKeywords(tokens, 40), await snap.searchKeywords(tokens, 40, { role: dated.role, year: dated.years[0]! })];
      };
      const before = await search();
      // The schema as version 2 left it: postings without their town and chunk length.
      await client.query('DROP INDEX postings_by_town');
      await client.query('ALTER TABLE postings DROP COLUMN town, DROP COLUMN token_count');
      await client.query('DELETE FROM schema_migrations WHERE version IN (3, 4)');
      expect(await migrate(embedded.url)).toEqual([3, 4]);
      const wrong = await client.query(
        'SELECT count(*)::integer AS n FROM postings p JOIN chunks c ON c.generation_id = p.generation_id AND c.ord = p.chunk_ord WHERE p.town IS DISTINCT FROM c.town OR p.token_count IS DISTINCT FROM c.token_count',
      );
      expect(wrong.rows[0].n).toBe(0);
      expect(Number((await client.query('SELECT count(*) AS n FROM postings')).rows[0].n)).toBeGreaterThan(1000);
      // A fresh snapshot (no reads kept) ranks as before, within a town, unfiltered and by role and year.
      expect(await search()).toEqual(before);
      for (const hits of before) expect(hits.length).toBeGreaterThan(0);
    } finally {
      await client.end();
      await store.close();
    }
  });

  it('stores chunk and sentence rows whole, vectors included, not in TOAST (migration 005)', async () => {
    // Runs after the import above: the database holds the test index's generation.
    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    try {
      const storage = await client.query("SELECT attrelid::regclass::text AS t, attstorage AS s FROM pg_attribute WHERE attname = 'embedding' AND attrelid IN ('chunks'::regclass, 'sentences'::regclass) ORDER BY 1");
      expect(storage.rows).toEqual([{ t: 'chunks', s: 'p' }, { t: 'sentences', s: 'p' }]);
      // Neither table's TOAST holds anything of the generation (with pgvector's default, external,
      // it held two rows per vector; with the vector alone PLAIN, a row's small text columns).
      for (const table of ['chunks', 'sentences']) {
        const toast = (await client.query('SELECT reltoastrelid::regclass::text AS rel FROM pg_class WHERE relname = $1', [table])).rows[0].rel as string;
        expect(Number((await client.query(`SELECT count(*) AS n FROM ${toast}`)).rows[0].n), table).toBe(0);
        expect(Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n), table).toBeGreaterThan(100);
      }
      // Inline and uncompressed: pgvector's 8-byte header and 4 bytes a dimension, every row.
      const { dimension } = (await loadReference()).embedder;
      const sizes = await client.query('SELECT DISTINCT pg_column_size(embedding) AS n FROM sentences');
      expect(sizes.rows.map((r) => Number(r.n))).toEqual([8 + 4 * dimension]);
    } finally {
      await client.end();
    }
  });

  it('fails with what to set when DATABASE_URL is missing', async () => {
    const child = runEntry('src/cli/db.ts', ['migrate'], childEnv({ DATABASE_URL: '' }));
    await child.waitFor(/set DATABASE_URL/);
    expect((await child.exited).code).toBe(1);
  });
});

describe('a server on the PostgreSQL store (INDEX_STORE=postgres)', () => {
  let embedded: { url: string; child: Child };
  let server: (Child & { base: string }) | undefined;
  let emptyIndex: { dir: string; remove: () => void } | undefined;
  beforeAll(async () => {
    embedded = await startEmbedded();
    const ref = await loadReference();
    await migrate(embedded.url);
    const importer = createPostgresStore({ connectionString: embedded.url, embeddingModel: ref.embedder.id, dimension: ref.embedder.dimension });
    await importFileIndex(ref.index, importer);
    await importer.close();
    // An empty INDEX_DIR: whatever the server answers comes from the database.
    emptyIndex = scratch('pg-server');
    server = await startServer({ INDEX_STORE: 'postgres', DATABASE_URL: embedded.url, INDEX_DIR: path.join(emptyIndex.dir, 'index'), EMBED_WORKERS: '1', ANSWER_CACHE_SIZE: '0' });
    await eventually(async () => (await fetch(`${server!.base}/api/health/ready`)).status === 200, 120_000);
  }, 300_000);
  afterAll(async () => {
    await stop(server);
    if (embedded) await stopChild(embedded.child);
    emptyIndex?.remove();
  });

  it('answers the dev questions with the same text, status and citations as the file store, and lists the same reports', async () => {
    const { service } = await openTestService();
    const questions = parseEvalFile(fs.readFileSync('eval/dev.jsonl', 'utf8')).map((i) => i.question);
    expect(questions.length).toBeGreaterThanOrEqual(30);
    for (const question of questions) {
      const reply = await call(server!.base, '/api/ask', postJson({ question }));
      expect(reply.status, question).toBe(200);
      const body = reply.body as { answer: string; status: string; citations: Array<{ chunkId: string }> };
      const file = await service.ask({ question, useLlm: false });
      expect({ answer: body.answer, status: body.status, citations: body.citations.map((c) => c.chunkId) }, question).toEqual({
        answer: file.answer,
        status: file.status,
        citations: file.citations.map((c) => c.chunkId),
      });
    }
    const documents = (await (await fetch(`${server!.base}/api/documents`)).json()) as { documents: Array<{ docId: string; chunks: number }> };
    expect(documents.documents.map((d) => [d.docId, d.chunks])).toEqual(service.listDocuments().map((d) => [d.docId, d.chunks]));
    // Nothing was built in INDEX_DIR: the database is the index.
    expect(fs.existsSync(path.join(emptyIndex!.dir, 'index', 'CURRENT'))).toBe(false);
  }, 300_000);
});
