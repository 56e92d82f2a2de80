/**
 * `npm start` runs the server compiled to JavaScript (`npm run build` → dist/), not its sources
 * through tsx. A compiled server takes branches that source runs never take: the embedding worker
 * thread, the ingest child and the extraction child each start from their `.js` beside the
 * caller. So this test builds, then runs dist/cli/serve.js as `npm start` does on a corpus with
 * no index yet: the first start builds the index in the ingest child, a question is answered
 * through an embedding worker, a .docx upload goes through the extraction child and a reindex,
 * and SIGTERM ends it with code 0. The compiled embedding pool also starts two workers cleanly,
 * start after start.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommand } from '../../src/cli/start-entry.js';
import { DEFAULT_MODEL_ID } from '../../src/embed/model-files.js';
import { buildDocx } from '../fixtures/report-files.js';
import { call, copyReports, eventually, expectOrderlyExit, postJson, ROOT, scratch, SMALL_REPORT, startServer, stop, type Child } from '../hardening/helpers.js';

const TOKEN = 'test-admin-token-compiled-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** What `npm start` runs after its build, read from its script (throws when it no longer runs dist/). */
const { entry: ENTRY, nodeFlags: NODE_FLAGS } = startCommand(ROOT);

let work: { dir: string; remove: () => void };
let server: (Child & { base: string }) | undefined;

beforeAll(async () => {
  work = scratch('compiled');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'pipe', timeout: 240_000 });
  const corpusDir = path.join(work.dir, 'corpus');
  copyReports(corpusDir, [SMALL_REPORT]);
  server = await startServer(
    { CORPUS_DIR: corpusDir, INDEX_DIR: path.join(work.dir, 'index'), ADMIN_TOKEN: TOKEN, AUDIT_LOG: path.join(work.dir, 'audit.jsonl'), EMBED_WORKERS: '1', NODE_OPTIONS: NODE_FLAGS.join(' ') },
    ENTRY,
  );
  await eventually(async () => (await call(server!.base, '/api/health/ready')).status === 200, 180_000);
}, 420_000);

afterAll(async () => {
  await stop(server);
  work?.remove();
});

describe('the compiled server (npm start)', () => {
  it('is what npm start runs: the build of src/cli/serve.ts, whose workers and children the build holds too', () => {
    expect(ENTRY).toBe('dist/cli/serve.js');
    for (const file of ['dist/embed/embed-worker.js', 'dist/cli/ingest-child.js', 'dist/corpus/extract-child.js', 'dist/store/postgres/migrations/001_index_store.sql']) {
      expect(fs.existsSync(path.join(ROOT, file)), file).toBe(true);
    }
  });

  it('built the first index in its ingest child and answers through its embedding worker', async () => {
    const reply = await call(server!.base, '/api/ask', postJson({ question: '梅李镇2023年在东部新镇区要完成哪条新建道路工程?' }));
    expect(reply.status).toBe(200);
    expect(reply.body.citations.length).toBeGreaterThan(0);
    expect(reply.body.citations[0].town).toBe('梅李镇');
  });

  it('extracts an uploaded .docx in its extraction child and serves it after a reindex', async () => {
    const docx = await buildDocx(['临湖镇2024年民生实事项目计划', '一、2024年民生实事', '全镇计划新建社区食堂4家,为辖区80岁以上老人提供助餐服务。']);
    const added = await call(server!.base, '/api/admin/documents?name=linhu-2024-plan.docx', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
      body: new Uint8Array(docx),
    });
    expect(added.status).toBe(201);
    const reindex = await call(server!.base, '/api/admin/reindex?wait=true', { method: 'POST', headers: AUTH });
    expect(reindex.status).toBe(200);
    const answer = await call(server!.base, '/api/ask', postJson({ question: '临湖镇2024年计划新建几家社区食堂?' }));
    expect(answer.status).toBe(200);
    expect(answer.body.citations.map((c: { town: string }) => c.town)).toContain('临湖镇');
    expect(answer.body.answer).toContain('4');
  });

  it('exits 0 on SIGTERM', async () => {
    server!.process.kill('SIGTERM');
    expectOrderlyExit(await server!.exited);
  });
});

describe('the compiled embedding pool', () => {
  it('starts two workers cleanly, twenty starts in a row (real child processes)', () => {
    // Two threads loading onnxruntime at once crashed 17 of 100 such starts (segfault or
    // "corrupted double-linked list"; run through tsx the timing hid it: 0 of 30), so the pool
    // loads its workers one at a time. Twenty starts catch the old way 97 times in 100.
    const poolUrl = pathToFileURL(path.join(ROOT, 'dist/embed/pool.js')).href;
    const code = `const { createEmbedderPool } = await import(${JSON.stringify(poolUrl)});
const p = await createEmbedderPool({ modelDir: ${JSON.stringify(path.join(ROOT, 'models'))}, modelId: ${JSON.stringify(DEFAULT_MODEL_ID)}, queryInstruction: false, size: 2 });
await p.embedQuery('测试');
await p.close();
process.exit(0);`;
    // A file, not -e: the workers would inherit --input-type.
    const script = path.join(work.dir, 'start-pool.mjs');
    fs.writeFileSync(script, code);
    const runs = Array.from({ length: 20 }, () => spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000 }));
    expect(runs.map((r) => ({ status: r.status, signal: r.signal }))).toEqual(Array.from({ length: 20 }, () => ({ status: 0, signal: null })));
  }, 300_000);
});
