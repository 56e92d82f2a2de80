/**
 * Admin uploads and reindexing run ingest in a child process of the real server: while it runs,
 * the server keeps answering from the current index (liveness and questions); the new index is
 * swapped in when it is published. When the child dies (here: SIGKILL, as the OOM killer would),
 * the admin API reports the job failed with E_INGEST_CRASHED, the server keeps serving the
 * previous index, and the next reindex succeeds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, copyReports, eventually, NEW_REPORT, postJson, scratch, SMALL_REPORT, startServer, stop, type Child } from './helpers.js';

const TOKEN = 'test-admin-token-reindex-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const OLD_QUESTION = '梅李镇2023年在东部新镇区要完成哪条新建道路工程?';

let work: { dir: string; remove: () => void };
let server: Child & { base: string };

/** PIDs of the server's child processes running the ingest child entry. */
function ingestChildren(pid: number): number[] {
  const found: number[] = [];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    let children = '';
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter(Boolean).map(Number)) {
      try {
        if (fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('ingest-child')) found.push(child);
      } catch {
        // gone already
      }
    }
  }
  return found;
}

const reindexState = async () => (await call(server.base, '/api/admin/reindex', { headers: AUTH })).body.reindex;

beforeAll(async () => {
  work = scratch('child-reindex');
  copyReports(path.join(work.dir, 'corpus'), [SMALL_REPORT]);
  server = await startServer({
    CORPUS_DIR: path.join(work.dir, 'corpus'),
    INDEX_DIR: path.join(work.dir, 'index'),
    ADMIN_TOKEN: TOKEN,
    AUDIT_LOG: path.join(work.dir, 'audit.jsonl'),
    EMBED_WORKERS: '1',
    ANSWER_CACHE_SIZE: '0',
  });
  await eventually(async () => (await call(server.base, '/api/health/ready')).status === 200, 150_000);
}, 180_000);

afterAll(async () => {
  await stop(server);
  work.remove();
});

describe('reindex in a child process (real server)', () => {
  it('runs an upload reindex in a child while the current index keeps answering, then swaps', async () => {
    const before = (await call(server.base, '/api/health')).body.indexVersion as string;
    const upload = await call(server.base, '/api/admin/documents?name=linhu-2024.txt&reindex=true', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'text/plain' },
      body: NEW_REPORT,
    });
    expect(upload.status).toBe(201);
    const children = new Set<number>();
    const statuses: number[] = [];
    const served = new Set<string>();
    await eventually(
      async () => {
        for (const pid of ingestChildren(server.process.pid!)) children.add(pid);
        statuses.push((await call(server.base, '/api/health/live')).status);
        const ask = await call(server.base, '/api/ask', postJson({ question: OLD_QUESTION }));
        statuses.push(ask.status);
        const job = await reindexState();
        if (job.state === 'running' && job.progress) expect(['model', 'load', 'parse', 'embed', 'write']).toContain(job.progress.stage);
        served.add((await call(server.base, '/api/health')).body.indexVersion as string);
        return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
      },
      120_000,
      20,
    );
    const job = await reindexState();
    expect(job).toMatchObject({ state: 'succeeded', summary: { documents: 2 } });
    expect(children.size).toBeGreaterThan(0);
    expect(children.has(server.process.pid!)).toBe(false);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(served.has(before)).toBe(true);
    const after = (await call(server.base, '/api/health')).body.indexVersion as string;
    expect(after).not.toBe(before);
    expect(after).toBe(job.summary.indexVersion);
    const answer = await call(server.base, '/api/ask', postJson({ question: '临湖镇2024年计划新建几家社区食堂?' }));
    expect(answer.body.answer).toContain('4家');
  }, 150_000);

  it('reports a crashed ingest child through the admin API and keeps serving the previous index', async () => {
    const before = (await call(server.base, '/api/health')).body.indexVersion as string;
    const started = await call(server.base, '/api/admin/reindex?full=true', { method: 'POST', headers: AUTH });
    expect(started.status).toBe(202);
    const [victim] = await eventually(async () => {
      const pids = ingestChildren(server.process.pid!);
      return pids.length > 0 ? pids : undefined;
    }, 60_000, 10);
    process.kill(victim!, 'SIGKILL');
    const job = await eventually(async () => {
      const j = await reindexState();
      return j.state === 'failed' || j.state === 'succeeded' ? j : undefined;
    }, 60_000);
    expect(job.state).toBe('failed');
    expect(job.error.code).toBe('E_INGEST_CRASHED');
    expect(job.error.message).toMatch(/SIGKILL/);
    expect((await call(server.base, '/api/health/live')).status).toBe(200);
    expect((await call(server.base, '/api/health')).body.indexVersion).toBe(before);
    const ask = await call(server.base, '/api/ask', postJson({ question: OLD_QUESTION }));
    expect(ask.status).toBe(200);
    expect(ask.body.answer).toContain('东环路');
    // The next reindex is not blocked by what the killed child left (its lock is taken over).
    const again = await call(server.base, '/api/admin/reindex?wait=true&full=true', { method: 'POST', headers: AUTH });
    expect(again.status, again.raw).toBe(200);
    expect(again.body.reindex.state).toBe('succeeded');
    expect(fs.readdirSync(path.join(work.dir, 'corpus')).filter((f) => f.startsWith('.upload-'))).toEqual([]);
  }, 150_000);
});
