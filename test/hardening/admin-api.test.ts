/**
 * The admin API over a real server on 127.0.0.1, with the real model, a temporary corpus and
 * index, and the same holder and reindexer serve.ts uses: authentication (constant-time, 401,
 * never logged), uploads checked by name, size, type, magic bytes and content, replacing and
 * removing reports, listing them with their ingest status, reindexing while serving, and an audit
 * line for every action. Refused requests change nothing on disk.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import iconv from 'iconv-lite';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuditLog, type AuditEvent } from '../../src/admin/audit.js';
import { createReportStore, sanitizeReportName } from '../../src/admin/reports.js';
import { createQaService, DEFAULT_THRESHOLD } from '../../src/qa/service.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import { docIdOf } from '../../src/corpus/structure.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { AppError } from '../../src/errors.js';
import { ingestCorpus } from '../../src/index/build.js';
import { loadIndex } from '../../src/index/store.js';
import { createApp } from '../../src/server/app.js';
import { createReindexer, createServiceHolder, type Rebuild } from '../../src/server/service-holder.js';
import { openTestService } from '../services.js';
import { buildDocx, buildPdf, encryptedPdf } from '../fixtures/report-files.js';
import { call, close, expectError, LEAK, listen, postJson, scratch, SHIPPED, SMALL_REPORT, type Reply } from './helpers.js';

const TOKEN = 'admin-token-for-tests-0123456789';
const MAX_UPLOAD = 256 * 1024;
const MEILI = fs.readFileSync(path.join(SHIPPED, SMALL_REPORT));
const SMALL_TEXT = '临湖镇2024年民生工作计划\n一、2024年目标\n全镇计划新建社区食堂4家,新增托位120个。\n年内完成农村公路提档升级12公里。\n';

let embedder: Embedder;
let work: { dir: string; remove: () => void };
let corpusDir: string;
let indexDir: string;
let auditFile: string;
let server: Server;
let base = '';
const logLines: string[] = [];
let rebuilds = 0;
let concurrent = 0;
let maxConcurrent = 0;

const admin = (route: string, init: RequestInit & { headers?: Record<string, string> } = {}, token = TOKEN): Promise<Reply> =>
  call(base, `/api/admin${route}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
const upload = (name: string | undefined, body: Uint8Array | string, type = 'application/octet-stream', extra = ''): Promise<Reply> =>
  admin(`/documents${name === undefined ? (extra ? `?${extra}` : '') : `?name=${encodeURIComponent(name)}${extra ? `&${extra}` : ''}`}`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
const audit = (): AuditEvent[] =>
  fs.existsSync(auditFile)
    ? fs
        .readFileSync(auditFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditEvent)
    : [];

/** Everything in the corpus folder (names, sizes, hashes), dot-files included. */
function corpusState(): string[] {
  return fs
    .readdirSync(corpusDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      return `${path.relative(corpusDir, file)}:${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 12)}`;
    })
    .sort();
}

beforeAll(async () => {
  ({ embedder } = await openTestService());
  work = scratch('admin-api');
  corpusDir = path.join(work.dir, 'corpus');
  indexDir = path.join(work.dir, 'index');
  auditFile = path.join(work.dir, 'logs', 'audit.jsonl');
  fs.mkdirSync(corpusDir);
  const logger = pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) });

  // As serve.ts: a holder that starts empty (no index yet) and a serialized reindexer.
  const holder = createServiceHolder();
  holder.fail(new AppError('E_INDEX_MISSING', 'index: no index in index/; run `npm run ingest`', { status: 503 }));
  const rebuild: Rebuild = async ({ full }) => {
    rebuilds += 1;
    concurrent += 1;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    try {
      const summary = await ingestCorpus({ corpusDir, indexDir, embedder, skipBad: true, full });
      const service = await createQaService(snapshotOfLoadedIndex(loadIndex(indexDir, { embeddingModel: embedder.id, dimension: embedder.dimension })), embedder, { defaultTopK: 5, threshold: DEFAULT_THRESHOLD });
      return { service, summary };
    } finally {
      concurrent -= 1;
    }
  };
  const reindexer = createReindexer({ holder, rebuild });
  const app = createApp({
    getService: holder.current,
    getLoadError: holder.loadError,
    maxQuestionChars: 500,
    defaultTopK: 5,
    logger,
    web: false,
    admin: {
      token: TOKEN,
      reports: createReportStore({ corpusDir, maxBytes: MAX_UPLOAD }),
      reindexer,
      audit: createAuditLog({ file: auditFile, logger }),
      getService: holder.current,
      maxUploadBytes: MAX_UPLOAD,
    },
  });
  ({ server, base } = await listen(app));
});

afterAll(async () => {
  await close(server);
  // The token never reached a log line or the audit log.
  expect(logLines.join('\n')).not.toContain(TOKEN);
  expect(fs.readFileSync(auditFile, 'utf8')).not.toContain(TOKEN);
  work.remove();
});

describe('admin API switched off', () => {
  it('does not exist without ADMIN_TOKEN: 404, not 401', async () => {
    const { server: off, base: offBase } = await listen(createApp({ service: (await openTestService()).service, maxQuestionChars: 500, defaultTopK: 5, web: false }));
    try {
      expectError(await call(offBase, '/api/admin/documents', { headers: { authorization: `Bearer ${TOKEN}` } }), 404, 'E_NOT_FOUND');
      expectError(await call(offBase, '/api/admin/reindex', { method: 'POST' }), 404, 'E_NOT_FOUND');
    } finally {
      await close(off);
    }
  });
});

describe('authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token-at-all-000000000' }],
    ['the token with a suffix', { authorization: `Bearer ${TOKEN}x` }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['Basic auth', { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
    ['the token without the scheme', { authorization: TOKEN }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('refuses %s with 401 and WWW-Authenticate, before reading any body', async (_name, headers: Record<string, string>) => {
    const before = corpusState();
    for (const reply of [
      await call(base, '/api/admin/documents', { headers }),
      await call(base, '/api/admin/documents?name=x.txt', { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: SMALL_TEXT }),
      await call(base, '/api/admin/documents/x', { method: 'DELETE', headers }),
      await call(base, '/api/admin/reindex', { method: 'POST', headers }),
    ]) {
      expectError(reply, 401, 'E_UNAUTHORIZED');
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(corpusState()).toEqual(before);
    expect(rebuilds).toBe(0);
  });

  it('compares tokens in constant time (timingSafeEqual over equal-length digests)', async () => {
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    try {
      await admin('/documents', {}, 'short');
      await admin('/documents', {}, `${TOKEN}${'x'.repeat(100)}`);
      expect(spy).toHaveBeenCalledTimes(2);
      for (const [a, b] of spy.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
    } finally {
      spy.mockRestore();
    }
  });

  it('audits refused attempts, without the token', () => {
    const denied = audit().filter((e) => e.action === 'auth' && e.outcome === 'denied');
    expect(denied.length).toBeGreaterThanOrEqual(7 * 4);
    expect(denied[0]).toMatchObject({ actor: 'admin', via: 'http', ip: expect.any(String), requestId: expect.any(String), time: expect.any(String) });
  });
});

describe('the first report, while no index exists', () => {
  it('is uploaded and indexed through the API, and the server starts answering', async () => {
    expectError(await call(base, '/api/ask', postJson({ question: '梅李镇' })), 503, 'E_INDEX_MISSING');
    const added = await upload(SMALL_REPORT, MEILI, 'text/plain; charset=utf-8');
    expect(added.status).toBe(201);
    expect(added.body.document).toMatchObject({ file: SMALL_REPORT, docId: docIdOf(SMALL_REPORT), bytes: MEILI.length, status: 'pending' });
    expect(fs.readFileSync(path.join(corpusDir, SMALL_REPORT))).toEqual(MEILI);

    const reindex = await admin('/reindex?wait=true', { method: 'POST' });
    expect(reindex.status).toBe(200);
    expect(reindex.body.reindex).toMatchObject({ state: 'succeeded', summary: { documents: 1, embedded: [SMALL_REPORT] } });
    const ask = await call(base, '/api/ask', postJson({ question: '梅李镇2023年在东部新镇区要完成哪条新建道路工程?' }));
    expect(ask.status).toBe(200);
    expect(ask.body.answer).toContain('东环路');
  });
});

describe('uploads that are refused change nothing', () => {
  const gibberish = Buffer.from(Array.from({ length: 3000 }, (_, i) => ((i * 2654435761) >>> 24) | 1));

  it.each([
    ['no file name', undefined, SMALL_TEXT, 'text/plain', 400, 'E_UPLOAD_INVALID'],
    ['an unsupported extension', 'report.exe', SMALL_TEXT, 'application/octet-stream', 415, 'E_UPLOAD_INVALID'],
    ['a legacy .doc', 'report.doc', SMALL_TEXT, 'application/octet-stream', 415, 'E_UPLOAD_INVALID'],
    ['no extension', 'report', SMALL_TEXT, 'application/octet-stream', 415, 'E_UPLOAD_INVALID'],
    ['a sidecar name', 'x.meta.txt', SMALL_TEXT, 'text/plain', 400, 'E_UPLOAD_INVALID'],
    ['control characters in the name', 'a\u0007b.txt', SMALL_TEXT, 'text/plain', 400, 'E_UPLOAD_INVALID'],
    ['an empty body', 'empty.txt', '', 'text/plain', 400, 'E_UPLOAD_INVALID'],
    ['a body over the limit', 'big.txt', '镇'.repeat(MAX_UPLOAD), 'text/plain', 413, 'E_BAD_REQUEST'],
    ['an image type for a .txt', 'a.txt', SMALL_TEXT, 'image/png', 415, 'E_UPLOAD_INVALID'],
    ['a PDF type for a .txt', 'a.txt', SMALL_TEXT, 'application/pdf', 415, 'E_UPLOAD_INVALID'],
    ['a form upload', 'a.txt', SMALL_TEXT, 'multipart/form-data; boundary=x', 415, 'E_UPLOAD_INVALID'],
    ['text named .pdf', 'a.pdf', SMALL_TEXT, 'application/pdf', 415, 'E_UPLOAD_INVALID'],
    ['text named .docx', 'a.docx', SMALL_TEXT, 'application/octet-stream', 415, 'E_UPLOAD_INVALID'],
    ['a PNG named .txt', 'a.txt', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), gibberish]), 'text/plain', 415, 'E_UPLOAD_INVALID'],
    ['a PDF named .txt', 'a.txt', buildPdf('BT /F1 24 Tf 72 720 Td (x) Tj ET'), 'application/octet-stream', 415, 'E_UPLOAD_INVALID'],
    ['an ELF binary named .md', 'a.md', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), gibberish]), 'application/octet-stream', 415, 'E_UPLOAD_INVALID'],
    ['binary bytes named .txt', 'a.txt', gibberish, 'text/plain', 422, 'E_UPLOAD_INVALID'],
    ['whitespace only', 'a.txt', ' \n\u3000\n', 'text/plain', 422, 'E_UPLOAD_INVALID'],
  ] as const)('refuses %s', async (_name, name, body, type, status, code) => {
    const before = corpusState();
    const reply = await upload(name, typeof body === 'string' ? Buffer.from(body) : body, type);
    expectError(reply, status, code);
    expect(reply.body.error.message).not.toMatch(/\.upload-/);
    expect(corpusState()).toEqual(before);
  });

  it('refuses a truncated .docx, an image-only .pdf and an encrypted .pdf after reading them', async () => {
    const docx = await buildDocx(['2024年工作计划', '一、推进乡村振兴']);
    const cases: Array<[string, Buffer, RegExp]> = [
      ['truncated.docx', docx.subarray(0, docx.length >> 1), /not a readable \.docx/],
      ['scan.pdf', buildPdf('0 0 1 rg 72 72 400 600 re f'), /no text layer/],
      ['locked.pdf', encryptedPdf(), /encrypted/],
    ];
    for (const [name, bytes, why] of cases) {
      const before = corpusState();
      const reply = await upload(name, bytes);
      expectError(reply, 422, 'E_UPLOAD_INVALID');
      expect(reply.body.error.message).toMatch(why);
      expect(reply.body.error.message).toContain(name);
      expect(corpusState()).toEqual(before);
    }
  });

  it('refuses a name that exists, an id that exists and content that exists', async () => {
    const before = corpusState();
    expectError(await upload(SMALL_REPORT, Buffer.from(SMALL_TEXT)), 409, 'E_CONFLICT');
    expectError(await upload(SMALL_REPORT.replace('.txt', '.md'), Buffer.from(SMALL_TEXT)), 409, 'E_CONFLICT');
    const dup = await upload('another-name.txt', MEILI);
    expectError(dup, 409, 'E_CONFLICT');
    expect(dup.body.error.message).toContain(SMALL_REPORT);
    expect(corpusState()).toEqual(before);
  });

  it.each(['name=a.txt&name=b.txt', 'name=a.txt&bogus=1', 'name=a.txt&reindex=maybe'])('refuses the query %s with 400', async (query) => {
    const reply = await admin(`/documents?${query}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: SMALL_TEXT });
    expectError(reply, 400, 'E_BAD_REQUEST');
  });
});

describe('file names', () => {
  it.each([
    ['../../etc/passwd.txt', 'passwd.txt'],
    ['..\\..\\windows\\win.ini.txt', 'win.ini.txt'],
    ['/abs/path/report.PDF', 'report.pdf'],
    ['.hidden.txt', 'hidden.txt'],
    ['临湖镇 2024 年 工作报告.docx', '临湖镇-2024-年-工作报告.docx'],
    ['a<b>c|d?e*f.md', 'a-b-c-d-e-f.md'],
    ['..txt', undefined],
    ['$(rm -rf).txt', 'rm-rf.txt'],
  ])('makes %j safe (%s)', (raw, safe) => {
    if (safe === undefined) expect(() => sanitizeReportName(raw)).toThrow(AppError);
    else expect(sanitizeReportName(raw)).toBe(safe);
  });

  it('lands a traversal name inside the corpus folder, atomically (no temporary file left)', async () => {
    const reply = await upload('../../outside.txt', Buffer.from(SMALL_TEXT), 'text/plain');
    expect(reply.status).toBe(201);
    expect(reply.body.document.file).toBe('outside.txt');
    expect(fs.existsSync(path.join(corpusDir, 'outside.txt'))).toBe(true);
    expect(fs.existsSync(path.join(work.dir, 'outside.txt'))).toBe(false);
    expect(corpusState().some((f) => f.includes('.upload-'))).toBe(false);
    expect((await admin('/documents/outside', { method: 'DELETE' })).status).toBe(200);
  });
});

describe('managing reports', () => {
  it('accepts a GBK text report and lists it as pending until a reindex', async () => {
    const reply = await upload('linhu-2024-gbk.txt', iconv.encode(SMALL_TEXT, 'gbk'), 'text/plain');
    expect(reply.status).toBe(201);
    const list = await admin('/documents');
    expect(list.status).toBe(200);
    const byFile = new Map((list.body.documents as Array<{ file: string; status: string }>).map((d) => [d.file, d]));
    expect(byFile.get(SMALL_REPORT)).toMatchObject({ status: 'indexed', meta: { town: '梅李镇', chunks: expect.any(Number) } });
    expect(byFile.get('linhu-2024-gbk.txt')).toMatchObject({ status: 'pending' });
  });

  it('lists files dropped into the corpus by hand: a bad one as failed (with why), a copy as duplicate', async () => {
    fs.writeFileSync(path.join(corpusDir, 'dropped.pdf'), buildPdf('0 0 1 rg 72 72 400 600 re f'));
    fs.writeFileSync(path.join(corpusDir, 'zz-copy-of-meili.txt'), MEILI);
    const reindex = await admin('/reindex?wait=1', { method: 'POST' });
    expect(reindex.body.reindex.summary.skipped).toEqual([{ file: 'dropped.pdf', message: expect.stringMatching(/no text layer/) }]);
    const list = (await admin('/documents')).body.documents as Array<{ file: string; status: string; statusDetail?: string }>;
    expect(list.find((d) => d.file === 'dropped.pdf')).toMatchObject({ status: 'failed', statusDetail: expect.stringMatching(/no text layer/) });
    expect(list.find((d) => d.file === 'linhu-2024-gbk.txt')).toMatchObject({ status: 'indexed', meta: { town: '临湖镇' } });
    expect(list.find((d) => d.file === 'zz-copy-of-meili.txt')).toMatchObject({ status: 'duplicate', statusDetail: expect.stringContaining(SMALL_REPORT) });
    expect(list.find((d) => d.file === SMALL_REPORT)).toMatchObject({ status: 'indexed' });
    fs.rmSync(path.join(corpusDir, 'dropped.pdf'));
    fs.rmSync(path.join(corpusDir, 'zz-copy-of-meili.txt'));
  });

  it('replaces a report by its id, keeping the id; refuses unknown ids and id changes', async () => {
    const docId = 'linhu-2024-gbk';
    const newer = SMALL_TEXT.replace('社区食堂4家', '社区食堂6家');
    const reply = await admin(`/documents/${docId}`, { method: 'PUT', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: newer });
    expect(reply.status).toBe(200);
    expect(reply.body.document).toMatchObject({ file: 'linhu-2024-gbk.txt', docId, replaced: 'linhu-2024-gbk.txt', status: 'pending' });
    expect(fs.readFileSync(path.join(corpusDir, 'linhu-2024-gbk.txt'), 'utf8')).toBe(newer);

    expectError(await admin('/documents/no-such-report', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: newer }), 404, 'E_DOCUMENT_NOT_FOUND');
    expectError(await admin('/documents/..%2f..%2fetc%2fpasswd', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: newer }), 404, 'E_DOCUMENT_NOT_FOUND');
    expectError(await admin(`/documents/${docId}?name=other.txt`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: newer }), 400, 'E_UPLOAD_INVALID');
  });

  it('reindexes on request while serving, and the replaced text answers', async () => {
    const started = await admin('/reindex', { method: 'POST' });
    expect(started.status).toBe(202);
    expect(['queued', 'running']).toContain(started.body.reindex.state);
    // Questions keep being answered while it runs.
    const during = await call(base, '/api/ask', postJson({ question: '梅李镇2023年在东部新镇区要完成哪条新建道路工程?' }));
    expect(during.status).toBe(200);
    const done = await vi.waitFor(
      async () => {
        const status = await admin('/reindex');
        expect(status.body.reindex.state).toBe('succeeded');
        return status;
      },
      { timeout: 60_000, interval: 100 },
    );
    expect(done.body.reindex.summary.embedded).toEqual(['linhu-2024-gbk.txt']);
    const ask = await call(base, '/api/ask', postJson({ question: '临湖镇2024年计划新建几家社区食堂?' }));
    expect(ask.body.answer).toContain('6家');
  });

  it('runs concurrent reindex requests one at a time', async () => {
    const before = rebuilds;
    const replies = await Promise.all([1, 2, 3].map(() => admin('/reindex?wait=true', { method: 'POST' })));
    for (const r of replies) expect(r.body.reindex.state).toBe('succeeded');
    expect(maxConcurrent).toBe(1);
    // The second and third requests arrived while the first ran and shared one queued run.
    expect(rebuilds - before).toBeLessThanOrEqual(2);
  });

  it('removes a report to .trash (with its sidecar), lists it as deleted until reindexed, then it is gone', async () => {
    fs.writeFileSync(path.join(corpusDir, 'linhu-2024-gbk.meta.json'), JSON.stringify({ district: '苏州市吴中区' }));
    const reply = await admin('/documents/linhu-2024-gbk', { method: 'DELETE' });
    expect(reply.status).toBe(200);
    expect(reply.body.document).toMatchObject({ file: 'linhu-2024-gbk.txt', status: 'deleted', trashedAs: expect.stringMatching(/^\.trash\//) });
    expect(fs.existsSync(path.join(corpusDir, 'linhu-2024-gbk.txt'))).toBe(false);
    expect(fs.readdirSync(path.join(corpusDir, '.trash')).some((f) => f.endsWith('linhu-2024-gbk.meta.json'))).toBe(true);
    const listed = (await admin('/documents')).body.documents as Array<{ file: string; status: string }>;
    expect(listed.find((d) => d.file === 'linhu-2024-gbk.txt')).toMatchObject({ status: 'deleted' });
    expectError(await admin('/documents/linhu-2024-gbk', { method: 'DELETE' }), 404, 'E_DOCUMENT_NOT_FOUND');

    await admin('/reindex?wait=true', { method: 'POST' });
    const after = (await admin('/documents')).body.documents as Array<{ file: string }>;
    expect(after.map((d) => d.file)).toEqual([SMALL_REPORT]);
    expect((await call(base, '/api/health')).body.documents).toBe(1);
  });

  it('answers other methods with 405 and unknown admin paths with 404', async () => {
    expectError(await admin('/documents', { method: 'PATCH' }), 405, 'E_BAD_REQUEST');
    expectError(await admin('/reindex', { method: 'DELETE' }), 405, 'E_BAD_REQUEST');
    expectError(await admin('/nope'), 404, 'E_NOT_FOUND');
  });
});

describe('the audit log', () => {
  it('has a line per action: who, what, on what, when, from where, and the outcome', async () => {
    await admin('/documents', { headers: { 'x-admin-user': 'zhang.wei@town.gov.cn' } });
    await admin('/documents', { headers: { 'x-admin-user': '<script>alert(1)</script>' } });
    const events = audit();
    for (const e of events) {
      expect(e).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), actor: expect.any(String), via: 'http', action: expect.any(String), outcome: expect.stringMatching(/^(ok|denied|failed)$/) });
      expect(JSON.stringify(e)).not.toMatch(LEAK);
    }
    const actions = new Set(events.map((e) => `${e.action}:${e.outcome}`));
    for (const expected of ['auth:denied', 'documents.add:ok', 'documents.add:failed', 'documents.replace:ok', 'documents.replace:failed', 'documents.remove:ok', 'documents.remove:failed', 'documents.list:ok', 'reindex:ok', 'reindex.finished:ok']) {
      expect(actions, expected).toContain(expected);
    }
    expect(events.find((e) => e.action === 'documents.add' && e.outcome === 'ok')).toMatchObject({ target: SMALL_REPORT, detail: { bytes: MEILI.length, sha256: expect.any(String) } });
    expect(events.find((e) => e.action === 'documents.add' && e.outcome === 'failed' && (e.detail as { status?: number })?.status === 413)).toBeDefined();
    expect(events.at(-2)!.actor).toBe('zhang.wei@town.gov.cn');
    expect(events.at(-1)!.actor).toBe('admin');
    // Mirrored to the structured log.
    expect(logLines.some((l) => l.includes('"audit":') && l.includes('documents.remove'))).toBe(true);
  });
});
