/**
 * The real server process (`npm start`'s entry point) on temporary folders: liveness and
 * readiness probes; a report uploaded through the admin API and a reindex while clients keep
 * asking, with every query answered and the swap atomic (each client sees the old index, then
 * the new one, never a mix, never back); and SIGTERM with a request in flight, which finishes
 * while new connections are refused.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, copyReports, eventually, expectOrderlyExit, postJson, scratch, SMALL_REPORT, startServer, stop, type Child } from './helpers.js';

const TOKEN = 'test-admin-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const NEW_REPORT =
  '临湖镇2024年民生实事项目计划\n一、2024年民生实事\n' +
  '全镇计划新建社区食堂4家,为辖区80岁以上老人提供助餐服务。\n' +
  '年内将完成农村公路提档升级12公里,新增公交候车亭15个。\n' +
  '计划新增普惠性托育机构2所,提供托位120个。\n';
const OLD_QUESTION = '梅李镇2023年在东部新镇区要完成哪条新建道路工程?';
const NEW_QUESTION = '临湖镇2024年计划新建几家社区食堂?';

let work: { dir: string; remove: () => void };
let server: (Child & { base: string }) | undefined;

beforeAll(async () => {
  work = scratch('server-process');
  copyReports(path.join(work.dir, 'corpus'), [SMALL_REPORT]);
  server = await startServer({
    CORPUS_DIR: path.join(work.dir, 'corpus'),
    INDEX_DIR: path.join(work.dir, 'index'),
    ADMIN_TOKEN: TOKEN,
    AUDIT_LOG: path.join(work.dir, 'audit.jsonl'),
  });
}, 120_000);

afterAll(async () => {
  await stop(server);
  work.remove();
});

describe('probes', () => {
  it('is live as soon as it listens, and ready once the index is loaded', async () => {
    expect((await call(server!.base, '/api/health/live')).body).toEqual({ status: 'alive' });
    const ready = await eventually(async () => {
      const reply = await call(server!.base, '/api/health/ready');
      if (reply.status !== 200) {
        expect(reply.status).toBe(503);
        expect(['loading']).toContain(reply.body.status);
        return undefined;
      }
      return reply;
    }, 120_000);
    expect(ready.body).toEqual({ status: 'ready', indexVersion: expect.stringMatching(/^gen-/) });
    // The existing contract of /api/health is unchanged.
    expect((await call(server!.base, '/api/health')).body).toMatchObject({ status: 'ok', documents: 1 });
  });
});

describe('reindexing while clients ask', () => {
  it('swaps indexes atomically: no query fails, none sees a mix, none goes back', async () => {
    const { base } = server!;
    const before = (await call(base, '/api/health')).body.indexVersion as string;
    const upload = await call(base, '/api/admin/documents?name=linhu-2024-livelihood.txt', { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain; charset=utf-8' }, body: NEW_REPORT });
    expect(upload.status).toBe(201);

    let running = true;
    const failures: string[] = [];
    /**
     * Per client, in order, which index each response came from: 0 the old one, 1 the new one
     * (told by the index version, the number of documents, or whether the new report answers).
     */
    const client = async (id: number) => {
      const seen: Array<number | string> = [];
      let n = 0;
      while (running) {
        n += 1;
        const health = await call(base, '/api/health');
        seen.push(String(health.body?.indexVersion)); // told apart once the new version is known
        const docs = await call(base, '/api/documents');
        seen.push(docs.body?.documents?.length === 1 ? 0 : docs.body?.documents?.length === 2 ? 1 : NaN);
        const oldAsk = await call(base, '/api/ask', postJson({ question: OLD_QUESTION }));
        if (!oldAsk.body?.answer?.includes('东环路')) failures.push(`client ${id}: the old report stopped answering`);
        const newAsk = await call(base, '/api/ask', postJson({ question: NEW_QUESTION }));
        seen.push(newAsk.body?.found && newAsk.body.answer.includes('4家') ? 1 : 0);
        const search = await call(base, `/api/search?q=${encodeURIComponent('社区食堂')}&k=3`);
        seen.push(search.body?.results?.some((r: { docId: string }) => r.docId === 'linhu-2024-livelihood') ? 1 : 0);
        for (const [what, reply] of [['health', health], ['documents', docs], ['ask', oldAsk], ['ask new', newAsk], ['search', search]] as const) {
          if (reply.status !== 200) failures.push(`client ${id} request ${n} ${what}: ${reply.status} ${reply.raw.slice(0, 200)}`);
        }
      }
      return seen;
    };
    const clients = Array.from({ length: 4 }, (_, i) => client(i));
    await new Promise((r) => setTimeout(r, 500));
    const reindex = await call(base, '/api/admin/reindex?wait=true', { method: 'POST', headers: AUTH });
    expect(reindex.status, reindex.raw).toBe(200);
    expect(reindex.body.reindex).toMatchObject({ state: 'succeeded', summary: { documents: 2, embedded: ['linhu-2024-livelihood.txt'] } });
    const after = reindex.body.reindex.summary.indexVersion as string;
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    const histories = (await Promise.all(clients)).map((seen) => seen.map((v) => (v === before ? 0 : v === after ? 1 : typeof v === 'number' ? v : NaN)));

    expect(failures).toEqual([]);
    for (const seen of histories) {
      expect(seen.length).toBeGreaterThan(4);
      // Every response came whole from one index, and once a client saw the new one it never saw
      // the old one again: the sequence is 0…0 1…1.
      expect(seen.every((v) => v === 0 || v === 1), seen.join('')).toBe(true);
      expect([...seen].sort()).toEqual(seen);
      expect(seen.at(-1)).toBe(1);
    }
    // The old index served while the reindex ran.
    expect(histories.some((seen) => seen[0] === 0)).toBe(true);

    const metrics = await call(base, '/metrics');
    expect(metrics.raw).toMatch(/qa_ingest_runs_total\{outcome="succeeded"\} 1/);
    expect(metrics.raw).toMatch(/qa_index_documents 2/);
    const audit = fs.readFileSync(path.join(work.dir, 'audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"action":"documents.add","outcome":"ok"/);
    expect(audit).toMatch(/"action":"reindex.finished","outcome":"ok"/);
    expect(audit).not.toContain(TOKEN);
  });
});

describe('SIGTERM', () => {
  it('lets the request in flight finish, refuses new connections, and exits 0', async () => {
    const { base } = server!;
    const url = new URL(base);
    const body = Buffer.from(JSON.stringify({ question: OLD_QUESTION }));
    // A request whose body is still arriving when the signal comes: in flight by any definition.
    let resolveReply!: (value: { status: number; text: string }) => void;
    const reply = new Promise<{ status: number; text: string }>((resolve) => (resolveReply = resolve));
    const request = http.request({ host: url.hostname, port: url.port, path: '/api/ask', method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolveReply({ status: res.statusCode ?? 0, text }));
    });
    request.write(body.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 300));

    server!.process.kill('SIGTERM');
    await server!.waitFor(/shutting down/);
    // A new connection is refused (fetch could reuse a kept-alive one, which gets one more answer).
    const fresh = await new Promise<string>((resolve) => {
      http.get({ host: url.hostname, port: url.port, path: '/api/health/live', agent: false }, () => resolve('answered')).on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(fresh).toBe('ECONNREFUSED');

    request.end(body.subarray(10));
    const finished = await reply;
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.text).answer).toContain('东环路');
    expectOrderlyExit(await server!.exited);
  });
});
