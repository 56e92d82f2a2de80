/**
 * `npm start`'s entry point as a real process: a bad config/towns.json stops the start with the
 * file and the field named, and a rating acknowledged with 201 survives the process being killed
 * (SIGKILL, no shutdown) and started again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, eventually, runEntry, scratch, startServer, stop, type Child } from '../hardening/helpers.js';
import { testIndexDir } from '../services.js';

const TOKEN = 'process-feedback-admin-token-0123456789';
const work = scratch('qa-feedback-process');
let server: (Child & { base: string }) | undefined;

afterAll(async () => {
  await stop(server);
  work.remove();
});

describe('the server process', () => {
  it('refuses to start with a bad towns file, naming the file and the field', async () => {
    const file = path.join(work.dir, 'towns.json');
    fs.writeFileSync(file, JSON.stringify({ towns: { 梅李镇: { presets: '不是列表' } } }));
    const child = runEntry('src/cli/serve.ts', [], childEnv({ PORT: '0', TOWNS_FILE: file, INDEX_DIR: testIndexDir() }));
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(child.output()).toContain(`E_CONFIG: ${file}: invalid town settings: towns.梅李镇.presets:`);
  });

  it('keeps an acknowledged rating through a kill and a restart', async () => {
    const env = { INDEX_DIR: testIndexDir(), FEEDBACK_DIR: path.join(work.dir, 'feedback'), ADMIN_TOKEN: TOKEN, AUDIT_LOG: path.join(work.dir, 'audit.jsonl') };
    const ready = async (base: string) => eventually(async () => (await fetch(`${base}/api/health/ready`)).status === 200);
    server = await startServer(env);
    await ready(server.base);
    const asked = await fetch(`${server.base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '梅李镇今年要建几个火箭发射场?' }) });
    const { answerId } = (await asked.json()) as { answerId: string };
    const rated = await fetch(`${server.base}/api/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answerId, rating: 'down', reason: '没有回答我的问题' }) });
    expect(rated.status).toBe(201);
    await stop(server, 'SIGKILL');

    server = await startServer(env);
    await ready(server.base);
    const listed = await fetch(`${server.base}/api/admin/unanswered`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { groups } = (await listed.json()) as { groups: Array<{ question: string; reasons: Record<string, number> }> };
    expect(groups).toEqual([expect.objectContaining({ question: '梅李镇今年要建几个火箭发射场?', reasons: { 没有回答我的问题: 1 } })]);
  });
});
