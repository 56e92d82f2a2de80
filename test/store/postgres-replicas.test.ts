/**
 * Two real server processes on one PostgreSQL store (the embedded PGlite + pgvector of
 * `npm run db:embedded`): `npm run db:migrate`, then `npm run ingest` with INDEX_STORE=postgres
 * publishes the corpus into the database (INDEX_DIR is only its staging area and cache), and
 * both servers answer from it alike; an upload through one is served by the other within 5 s of
 * its reindex finishing; an ingest killed with SIGKILL while it builds, or while it writes its
 * generation into the database, leaves both servers on the previous generation, and the next
 * ingest publishes and leaves no partial generation behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvalFile } from '../../src/evaluate/metrics.js';
import { call, childEnv, copyReports, eventually, NEW_REPORT, runEntry, scratch, SHIPPED, startServer, stop, type Child } from '../hardening/helpers.js';
import { testIndexDir } from '../services.js';

const TOKEN = 'test-admin-token-pg-replicas-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** The bound on an upload reaching the other replica. */
const PROPAGATION_MS = 5_000;

type Server = Child & { base: string };

let work: { dir: string; remove: () => void };
let db: Child | undefined;
let url: string;
let sql: pg.Client | undefined;
let env: Record<string, string>;
let first: Server | undefined;
let second: Server | undefined;

/** Starts `npm run db:embedded -- --port 0` and returns its URL (as test/store/postgres.test.ts does). */
async function startEmbedded(): Promise<{ url: string; child: Child }> {
  const child = runEntry('src/cli/db-embedded.ts', ['--port', '0'], childEnv({}));
  const match = await child.waitFor(/\{"event":"listening","url":"([^"]+)"/);
  return { url: match[1]!, child };
}

/** Runs `npm run ingest` (its entry point, so a signal reaches the ingest itself) with INDEX_STORE=postgres. */
const ingest = (args: string[] = [], extra: Record<string, string> = {}): Child => runEntry('src/cli/ingest.ts', args, childEnv({ ...env, ...extra }));

async function ingestOk(args: string[] = []): Promise<string> {
  const child = ingest(args);
  const { code } = await child.exited;
  expect(code, child.output()).toBe(0);
  return child.output();
}

const generations = async (): Promise<Array<{ name: string; state: string; published: boolean }>> =>
  (
    await sql!.query<{ name: string; state: string; published: boolean }>(
      'SELECT g.name, g.state, EXISTS (SELECT 1 FROM published_generation p WHERE p.generation_id = g.id) AS published FROM generations g ORDER BY g.id',
    )
  ).rows;
const publishedName = async (): Promise<string | undefined> => (await generations()).find((g) => g.published)?.name;
const chunkRowsOf = async (name: string): Promise<number> =>
  Number((await sql!.query<{ n: string }>('SELECT count(*) AS n FROM chunks c JOIN generations g ON g.id = c.generation_id WHERE g.name = $1', [name])).rows[0]!.n);

const indexVersionOf = async (server: Server): Promise<string> => (await call(server.base, '/api/health')).body.indexVersion as string;
const documentsOf = async (server: Server): Promise<Array<{ docId: string; title: string; chunks: number }>> =>
  ((await call(server.base, '/api/documents')).body.documents as Array<{ docId: string; title: string; chunks: number }>).map((d) => ({ docId: d.docId, title: d.title, chunks: d.chunks }));

/** What a server answers to `question`: the answer, its status and each citation's passage and offsets. */
async function answerOf(server: Server, question: string): Promise<{ answer: string; status: string; citations: string[] }> {
  const reply = await call(server.base, '/api/ask', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) });
  expect(reply.status, `${server.base} ${question}`).toBe(200);
  const body = reply.body as { answer: string; status: string; citations: Array<{ chunkId: string; start: number; end: number }> };
  return { answer: body.answer, status: body.status, citations: body.citations.map((c) => `${c.chunkId}@${c.start}-${c.end}`) };
}

const QUESTIONS = parseEvalFile(fs.readFileSync('eval/dev.jsonl', 'utf8'))
  .map((i) => i.question)
  .filter((_, i) => i % 4 === 0);

/** What both servers serve now: generation, documents, answers (equal between them, else the test fails). */
async function servedByBoth(): Promise<{ indexVersion: string; documents: Awaited<ReturnType<typeof documentsOf>>; answers: Array<Awaited<ReturnType<typeof answerOf>>> }> {
  const indexVersion = await indexVersionOf(first!);
  expect(await indexVersionOf(second!)).toBe(indexVersion);
  const documents = await documentsOf(first!);
  expect(await documentsOf(second!)).toEqual(documents);
  const answers = [];
  for (const question of QUESTIONS) {
    const one = await answerOf(first!, question);
    expect(await answerOf(second!, question), question).toEqual(one);
    answers.push(one);
  }
  return { indexVersion, documents, answers };
}

beforeAll(async () => {
  work = scratch('pg-replicas');
  const corpusDir = path.join(work.dir, 'corpus');
  copyReports(corpusDir, fs.readdirSync(SHIPPED).filter((f) => !f.endsWith('.meta.json')));
  // The staging folder starts as a copy of the test index: `npm run ingest` then reuses the
  // vectors of the unchanged reports (its incremental cache) rather than embed the corpus again.
  const indexDir = path.join(work.dir, 'index');
  fs.cpSync(testIndexDir(), indexDir, { recursive: true, filter: (from) => !from.endsWith('.write.lock') });
  const embedded = await startEmbedded();
  db = embedded.child;
  url = embedded.url;
  env = { INDEX_STORE: 'postgres', DATABASE_URL: url, CORPUS_DIR: corpusDir, INDEX_DIR: indexDir, EMBED_WORKERS: '1', ANSWER_CACHE_SIZE: '0' };

  const migrate = runEntry('src/cli/db.ts', ['migrate'], childEnv(env));
  await migrate.waitFor(/applied migration\(s\)/);
  expect((await migrate.exited).code).toBe(0);
  const out = await ingestOk();
  expect(out).toMatch(/published gen-\S+ into PostgreSQL \(5 documents, \d+ chunks\)/);

  sql = new pg.Client({ connectionString: url });
  await sql.connect();
  first = await startServer({ ...env, ADMIN_TOKEN: TOKEN, AUDIT_LOG: path.join(work.dir, 'audit.jsonl') });
  second = await startServer({ ...env, ADMIN_TOKEN: TOKEN });
  await eventually(async () => (await call(first!.base, '/api/health/ready')).status === 200 && (await call(second!.base, '/api/health/ready')).status === 200, 150_000);
}, 330_000);

afterAll(async () => {
  await stop(first);
  await stop(second);
  await sql?.end();
  if (db) {
    db.process.kill('SIGTERM');
    await db.exited;
  }
  work?.remove();
});

describe('two servers on one PostgreSQL store, fed by npm run ingest', () => {
  it('serve the generation the ingest published, with the same answers and citations', async () => {
    const served = await servedByBoth();
    expect(served.indexVersion).toBe(await publishedName());
    expect(served.documents).toHaveLength(5);
    expect(QUESTIONS.length).toBeGreaterThanOrEqual(5);
    // Real answers, not five refusals that happen to agree.
    expect(served.answers.filter((a) => a.status === 'answered' && a.citations.length > 0).length).toBeGreaterThanOrEqual(3);
    // No partial generation, and the servers did not build a file index of their own to answer from.
    expect((await generations()).filter((g) => g.state === 'writing')).toEqual([]);
  }, 120_000);

  it('an upload through one is in the other\'s /api/documents within 5 s of its reindex finishing', async () => {
    const before = await publishedName();
    const upload = await call(first!.base, '/api/admin/documents?name=linhu-2024.txt&reindex=true', { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: NEW_REPORT });
    expect(upload.status).toBe(201);
    const uploadedAt = Date.now();
    const docId = upload.body.document.docId as string;
    const job = await eventually(async () => {
      const reindex = (await call(first!.base, '/api/admin/reindex', { headers: AUTH })).body.reindex as { state?: string; finishedAt?: string; summary?: { indexVersion: string } } | undefined;
      if (reindex?.state === 'failed') throw new Error(`the reindex failed: ${JSON.stringify(reindex)}`);
      return reindex?.state === 'succeeded' ? reindex : undefined;
    }, 240_000);
    // The uploading server's own reindex published into the database and swapped the new generation in.
    expect(job.summary!.indexVersion).not.toBe(before);
    expect(await publishedName()).toBe(job.summary!.indexVersion);
    expect(await indexVersionOf(first!)).toBe(job.summary!.indexVersion);
    // From the moment the job finished (the server's own clock, this machine's) to the other's listing.
    const finishedAt = Date.parse(job.finishedAt!);
    await eventually(async () => (await documentsOf(second!)).some((d) => d.docId === docId), PROPAGATION_MS + 5_000, 50);
    const seenAt = Date.now();
    const propagationMs = seenAt - finishedAt;
    process.stdout.write(`postgres replicas: upload served by the other replica ${propagationMs} ms after its reindex finished (${seenAt - uploadedAt} ms after the upload's 201)\n`);
    expect(propagationMs).toBeLessThan(PROPAGATION_MS);
    expect(await indexVersionOf(second!)).toBe(job.summary!.indexVersion);
    const answer = await answerOf(second!, '临湖镇2024年计划新建几家社区食堂?');
    expect(answer.citations.some((c) => c.startsWith(`${docId}:`))).toBe(true);
    expect(second!.output()).toContain('another process published a new index: now serving it');
  }, 300_000);

  it('uploads through both replicas at the same moment both go live on both: the job that finds the other writing waits and builds again', async () => {
    const servers = [first!, second!];
    const reports = [
      { name: 'meili-2025.txt', body: '梅李镇2025年民生实事项目计划\n一、2025年民生实事\n全镇计划新建口袋公园6个,改造老旧小区3个。\n年内将新增停车泊位300个。\n' },
      { name: 'niutang-2025.txt', body: '牛塘镇2025年民生实事项目计划\n一、2025年民生实事\n全镇计划新建养老服务站5个,新增托育机构2家。\n年内将完成雨污分流改造8公里。\n' },
    ];
    const previous = await Promise.all(servers.map(async (server) => (await call(server.base, '/api/admin/reindex', { headers: AUTH })).body.reindex?.id as number | undefined));
    const uploads = await Promise.all(
      servers.map((server, i) => call(server.base, `/api/admin/documents?name=${reports[i]!.name}&reindex=true`, { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: reports[i]!.body })),
    );
    expect(uploads.map((u) => u.status)).toEqual([201, 201]);
    const ids = uploads.map((u) => u.body.document.docId as string);
    const jobs = await Promise.all(
      servers.map((server, i) =>
        eventually(async () => {
          const reindex = (await call(server.base, '/api/admin/reindex', { headers: AUTH })).body.reindex as { id: number; state?: string; busyRetries?: number } | undefined;
          if (!reindex || reindex.id === previous[i]) return undefined;
          if (reindex.state === 'failed') throw new Error(`replica ${i + 1}'s reindex failed: ${JSON.stringify(reindex)}`);
          return reindex.state === 'succeeded' ? reindex : undefined;
        }, 240_000),
      ),
    );
    process.stdout.write(`postgres replicas: simultaneous uploads, tries after E_BUSY per replica: ${jobs.map((j) => j.busyRetries ?? 0).join(', ')}\n`);
    // Both reports on both replicas, from the one generation last published.
    await eventually(async () => {
      for (const server of servers) {
        const listed = await documentsOf(server);
        if (!ids.every((id) => listed.some((d) => d.docId === id))) return false;
      }
      return (await indexVersionOf(first!)) === (await indexVersionOf(second!));
    }, PROPAGATION_MS + 5_000, 100);
    expect(await indexVersionOf(second!)).toBe(await publishedName());
  }, 300_000);

  it('an ingest killed with SIGKILL while it builds, or while it writes into the database, leaves both on the previous generation; the next ingest publishes and cleans up', async () => {
    const served = await servedByBoth();
    const previous = await publishedName();
    expect(served.indexVersion).toBe(previous);

    // 1. Killed while it builds (after its first embedding batch): the database never heard of it.
    const building = ingest(['--full'], { INGEST_PAUSE_AT: 'embed' });
    await building.waitFor(/ingest: paused at embed/, 120_000);
    building.process.kill('SIGKILL');
    expect((await building.exited).signal).toBe('SIGKILL');
    expect(await publishedName()).toBe(previous);
    expect((await generations()).filter((g) => g.state === 'writing')).toEqual([]);

    // 2. Killed while its generation's rows are being written (paused after the first batch, so the
    // kill lands there however fast the machine; the rows are seen in the database before it).
    const publishing = ingest([], { INGEST_PAUSE_AT: 'publish' });
    const partial = await eventually(async () => {
      const writing = (await generations()).find((g) => g.state === 'writing');
      return writing && (await chunkRowsOf(writing.name)) > 0 ? writing.name : undefined;
    }, 120_000, 50);
    await publishing.waitFor(/ingest: paused at publish/, 30_000);
    publishing.process.kill('SIGKILL');
    expect((await publishing.exited).signal).toBe('SIGKILL');
    expect(await publishedName()).toBe(previous);
    expect((await generations()).filter((g) => g.state === 'writing').map((g) => g.name)).toEqual([partial]);

    // Both still serve the previous generation: same documents, same answers.
    expect(await servedByBoth()).toEqual(served);

    // 3. The next ingest takes over: the dead writer's rows go (its process is gone), its own generation is published.
    const out = await ingestOk();
    const next = /published (gen-\S+) into PostgreSQL/.exec(out)?.[1];
    expect(next, out).toBeDefined();
    expect(await publishedName()).toBe(next);
    expect((await generations()).filter((g) => g.state === 'writing')).toEqual([]);
    expect(await chunkRowsOf(partial)).toBe(0);
    expect((await generations()).map((g) => g.name)).not.toContain(partial);
    await eventually(async () => (await indexVersionOf(first!)) === next && (await indexVersionOf(second!)) === next, 60_000);
    const after = await servedByBoth();
    // Same corpus, same answers, from the new generation.
    expect(after.documents).toEqual(served.documents);
    expect(after.answers).toEqual(served.answers);
  }, 400_000);

  it('an ingest with the database unreachable fails at once with E_STORE, and nothing changes', async () => {
    const previous = await publishedName();
    const child = ingest([], { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/postgres' });
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(child.output()).toMatch(/E_STORE: store: reaching PostgreSQL at 127\.0\.0\.1:1 failed \(ECONNREFUSED/);
    // The password of the connection string is never printed.
    expect(child.output()).not.toContain('secret');
    expect(await publishedName()).toBe(previous);
    expect(await indexVersionOf(second!)).toBe(previous);
  }, 60_000);
});
