/**
 * `npm run admin` as a real child process: the same operations as the admin API, on the corpus
 * and index folders directly or through a running server (--server), with the same checks and
 * an audit line per action.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/admin/audit.js';
import { createReportStore } from '../../src/admin/reports.js';
import { createApp } from '../../src/server/app.js';
import { createReindexer, createServiceHolder } from '../../src/server/service-holder.js';
import { openTestService } from '../services.js';
import { childEnv, close, copyReports, listen, runEntry, scratch, SMALL_REPORT } from './helpers.js';

const TOKEN = 'cli-test-admin-token-0123456789ab';
let work: { dir: string; remove: () => void };
let env: NodeJS.ProcessEnv;
let corpusDir: string;

async function admin(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = runEntry('src/cli/admin.ts', args, { ...env, ...extraEnv });
  const { code } = await child.exited;
  return { code, output: child.output() };
}

beforeAll(() => {
  work = scratch('admin-cli');
  corpusDir = path.join(work.dir, 'corpus');
  copyReports(corpusDir, [SMALL_REPORT]);
  env = childEnv({ CORPUS_DIR: corpusDir, INDEX_DIR: path.join(work.dir, 'index'), AUDIT_LOG: path.join(work.dir, 'audit.jsonl'), ADMIN_USER: 'li.na' });
  fs.writeFileSync(path.join(work.dir, 'plan.txt'), '临湖镇2024年民生工作计划\n一、2024年目标\n全镇计划新建社区食堂4家,新增托位120个。\n');
  fs.writeFileSync(path.join(work.dir, 'image.txt'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]));
});

afterAll(() => work.remove());

describe('npm run admin (local)', () => {
  it('adds a report under a safe name, refuses a bad one, lists, reindexes and removes', async () => {
    const added = await admin(['add', path.join(work.dir, 'plan.txt'), '--name', '../临湖 2024.txt']);
    expect(added.code, added.output).toBe(0);
    expect(added.output).toContain('added 临湖-2024.txt');
    expect(fs.existsSync(path.join(corpusDir, '临湖-2024.txt'))).toBe(true);

    const refused = await admin(['add', path.join(work.dir, 'image.txt')]);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/E_UPLOAD_INVALID: upload: image\.txt is a PNG image/);
    expect(refused.output).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(corpusDir, 'image.txt'))).toBe(false);

    const pending = JSON.parse((await admin(['--json', 'list'])).output) as { documents: Array<{ file: string; status: string }> };
    expect(pending.documents.map((d) => [d.file, d.status])).toEqual([
      [SMALL_REPORT, 'pending'],
      ['临湖-2024.txt', 'pending'],
    ]);

    const reindexed = await admin(['reindex']);
    expect(reindexed.code, reindexed.output).toBe(0);
    expect(reindexed.output).toMatch(/indexed 2 report\(s\)/);
    const indexed = JSON.parse((await admin(['--json', 'list'])).output) as { documents: Array<{ status: string; meta?: { town: string } }> };
    expect(indexed.documents.map((d) => d.status)).toEqual(['indexed', 'indexed']);
    expect(indexed.documents[1]!.meta?.town).toBe('临湖镇');

    const removed = await admin(['remove', '临湖-2024']);
    expect(removed.code).toBe(0);
    expect(fs.existsSync(path.join(corpusDir, '临湖-2024.txt'))).toBe(false);
    expect(fs.readdirSync(path.join(corpusDir, '.trash'))).toHaveLength(1);
    expect((await admin(['remove', 'no-such-report'])).output).toMatch(/E_DOCUMENT_NOT_FOUND/);

    const audit = fs.readFileSync(path.join(work.dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.map((e) => `${e['action']}:${e['outcome']}`)).toEqual([
      'documents.add:ok',
      'documents.add:failed',
      'documents.list:ok',
      'reindex:ok',
      'documents.list:ok',
      'documents.remove:ok',
      'documents.remove:failed',
    ]);
    for (const e of audit) expect(e).toMatchObject({ actor: 'li.na', via: 'cli', time: expect.any(String) });
  });
});

describe('npm run admin --server', () => {
  let server: Server;
  let base = '';

  beforeAll(async () => {
    const { service } = await openTestService();
    const holder = createServiceHolder(service);
    const reindexer = createReindexer({ holder, rebuild: async () => Promise.reject(new Error('not used')) });
    ({ server, base } = await listen(
      createApp({
        getService: holder.current,
        maxQuestionChars: 500,
        defaultTopK: 5,
        web: false,
        admin: {
          token: TOKEN,
          reports: createReportStore({ corpusDir }),
          reindexer,
          audit: createAuditLog({ file: path.join(work.dir, 'server-audit.jsonl') }),
          getService: holder.current,
          maxUploadBytes: 1024 * 1024,
        },
      }),
    ));
  });
  afterAll(() => close(server));

  it('acts through the admin API with ADMIN_TOKEN, and says what is missing without it', async () => {
    const added = await admin(['--server', base, 'add', path.join(work.dir, 'plan.txt'), '--name', 'remote.txt'], { ADMIN_TOKEN: TOKEN });
    expect(added.code, added.output).toBe(0);
    expect(JSON.parse(added.output)).toMatchObject({ document: { file: 'remote.txt', status: 'pending' } });
    const listed = await admin(['--server', base, 'list'], { ADMIN_TOKEN: TOKEN });
    expect(listed.output).toMatch(/pending\s+remote/);
    const audit = fs.readFileSync(path.join(work.dir, 'server-audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"actor":"li.na","via":"http".*"action":"documents.add","outcome":"ok"/);

    expect((await admin(['--server', base, 'list'])).output).toMatch(/E_CONFIG: admin: --server needs ADMIN_TOKEN/);
    expect((await admin(['--server', base, 'list'], { ADMIN_TOKEN: 'wrong-token-wrong-token-wrong-token' })).output).toMatch(/E_UNAUTHORIZED/);
  });
});
