/**
 * Two server processes on one index (the same INDEX_DIR, as replicas on a shared volume): an
 * upload and reindex through one is served by the other within seconds, without a restart,
 * because each server polls the store's published generation and loads what another published.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, copyReports, eventually, NEW_REPORT, scratch, SMALL_REPORT, startServer, stop, type Child } from './helpers.js';

const TOKEN = 'test-admin-token-replicas-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

let work: { dir: string; remove: () => void };
let first: Child & { base: string };
let second: (Child & { base: string }) | undefined;

const indexVersionOf = async (server: { base: string }): Promise<string> => (await call(server.base, '/api/health')).body.indexVersion as string;

beforeAll(async () => {
  work = scratch('replicas');
  copyReports(path.join(work.dir, 'corpus'), [SMALL_REPORT]);
  const env = { CORPUS_DIR: path.join(work.dir, 'corpus'), INDEX_DIR: path.join(work.dir, 'index'), EMBED_WORKERS: '1', ANSWER_CACHE_SIZE: '0' };
  // The first builds the index; the second starts on it. Only the first takes admin requests.
  first = await startServer({ ...env, ADMIN_TOKEN: TOKEN, AUDIT_LOG: path.join(work.dir, 'audit.jsonl') });
  await eventually(async () => (await call(first.base, '/api/health/ready')).status === 200, 150_000);
  second = await startServer(env);
  await eventually(async () => (await call(second!.base, '/api/health/ready')).status === 200, 150_000);
}, 330_000);

afterAll(async () => {
  await stop(first);
  await stop(second);
  work.remove();
});

describe('two servers on one index', () => {
  it('serve an upload made through the other within 5 s of its reindex', async () => {
    const before = await indexVersionOf(first);
    expect(await indexVersionOf(second!)).toBe(before);
    const upload = await call(first.base, '/api/admin/documents?name=linhu-2024.txt&reindex=true', { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: NEW_REPORT });
    expect(upload.status).toBe(201);
    const after = await eventually(async () => {
      const reindex = (await call(first.base, '/api/admin/reindex', { headers: AUTH })).body.reindex as { state?: string } | undefined;
      if (reindex?.state === 'failed') throw new Error('the reindex failed');
      const version = await indexVersionOf(first);
      return version !== before ? version : undefined;
    }, 240_000);
    const published = Date.now();
    await eventually(async () => (await indexVersionOf(second!)) === after, 5_000, 100);
    expect(Date.now() - published).toBeLessThan(5_000);
    const documents = (await call(second!.base, '/api/documents')).body.documents as Array<{ town: string }>;
    expect(documents.map((d) => d.town)).toContain('临湖镇');
    const answer = await call(second!.base, '/api/ask', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '临湖镇2024年计划新建几家社区食堂?' }) });
    expect(answer.status).toBe(200);
    expect(answer.body.citations.some((c: { town: string }) => c.town === '临湖镇')).toBe(true);
    expect(second!.output()).toContain('another process published a new index: now serving it');
  }, 300_000);
});
