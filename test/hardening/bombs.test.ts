/**
 * Decompression bombs, real processes: a ~300 KB .docx whose word/document.xml inflates to 300 MB
 * and a ~450 KB PDF whose Flate content stream inflates to 150 MB (both built here, never
 * committed). Uploaded through the admin API of a real server, they are refused with E_PARSE
 * naming the limit while the server keeps answering, and nothing is left in corpus/. Placed in
 * corpus/, `ingest --skip-bad` skips them and indexes the rest. The extraction child's memory,
 * time and character limits are exercised through the loader with lowered limits.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFile } from '../../src/corpus/load.js';
import { AppError } from '../../src/errors.js';
import { buildDocx } from '../fixtures/report-files.js';
import { docxBomb, pdfBomb } from './bombs.js';
import { call, childEnv, copyReports, eventually, expectError, postJson, runEntry, scratch, SMALL_REPORT, startServer, stop, type Child } from './helpers.js';

const TOKEN = 'test-admin-token-bombs-0123456789';
const DOCX_BOMB = docxBomb(300);
const PDF_BOMB = pdfBomb(150);
const LIMIT = /unpacks to more than the 64 MB limit on unpacked size/;

let work: { dir: string; remove: () => void };

beforeAll(() => {
  work = scratch('bombs');
});
afterAll(() => work.remove());

const files = (dir: string): string[] => fs.readdirSync(dir, { recursive: true }).map(String).sort();

describe('the bombs themselves', () => {
  it('are small files that inflate to hundreds of MB', () => {
    expect(DOCX_BOMB.length).toBeLessThan(1024 * 1024);
    expect(PDF_BOMB.length).toBeLessThan(1024 * 1024);
  });
});

describe('admin upload of a bomb (real server process)', () => {
  let server: (Child & { base: string }) | undefined;
  let corpusDir: string;

  beforeAll(async () => {
    corpusDir = path.join(work.dir, 'upload-corpus');
    copyReports(corpusDir, [SMALL_REPORT]);
    // Left behind by an upload whose server died mid-check: the next start removes it.
    fs.writeFileSync(path.join(corpusDir, '.upload-0123456789ab.docx'), DOCX_BOMB);
    server = await startServer({
      CORPUS_DIR: corpusDir,
      INDEX_DIR: path.join(work.dir, 'upload-index'),
      ADMIN_TOKEN: TOKEN,
      AUDIT_LOG: path.join(work.dir, 'audit.jsonl'),
      EMBED_WORKERS: '1',
    });
    await eventually(async () => (await call(server!.base, '/api/health/ready')).status === 200, 120_000);
  }, 180_000);
  afterAll(() => stop(server));

  it('removes .upload-* files left by a crash when the server starts', () => {
    expect(files(corpusDir).filter((f) => f.includes('.upload-'))).toEqual([]);
  });

  for (const [name, bytes, type] of [
    ['bomb.docx', DOCX_BOMB, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['bomb.pdf', PDF_BOMB, 'application/pdf'],
  ] as const) {
    it(`refuses ${name} with E_PARSE naming the limit, keeps serving, and leaves nothing in corpus/`, async () => {
      const before = files(corpusDir);
      const probes: number[] = [];
      let probing = true;
      const probe = (async () => {
        while (probing) probes.push((await call(server!.base, '/api/health/live')).status);
      })();
      const reply = await call(server!.base, `/api/admin/documents?name=${name}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
        body: new Uint8Array(bytes),
      });
      probing = false;
      await probe;
      expectError(reply, 422, 'E_PARSE');
      expect(reply.body.error.message).toMatch(LIMIT);
      expect(reply.body.error.message).toContain(name);
      expect(probes.length).toBeGreaterThan(0);
      expect(probes.every((s) => s === 200)).toBe(true);
      expect(files(corpusDir)).toEqual(before);
      const answer = await call(server!.base, '/api/ask', postJson({ question: '梅李镇2023年在东部新镇区要完成哪条新建道路工程?' }));
      expect(answer.status).toBe(200);
      expect(answer.body.citations.length).toBeGreaterThan(0);
    });
  }
});

describe('bombs in corpus/ under ingest --skip-bad (real ingest process)', () => {
  it('skips both with E_PARSE naming the limit and indexes the other reports', async () => {
    const corpusDir = path.join(work.dir, 'ingest-corpus');
    copyReports(corpusDir, [SMALL_REPORT]);
    fs.writeFileSync(path.join(corpusDir, 'a-bomb.docx'), DOCX_BOMB);
    fs.writeFileSync(path.join(corpusDir, 'b-bomb.pdf'), PDF_BOMB);
    const ingest = runEntry('src/cli/ingest.ts', ['--skip-bad'], childEnv({ CORPUS_DIR: corpusDir, INDEX_DIR: path.join(work.dir, 'ingest-index'), EMBED_WORKERS: '1' }));
    const { code } = await ingest.exited;
    expect(code, ingest.output()).toBe(0);
    expect(ingest.output()).toMatch(/skipped a-bomb\.docx: load: a-bomb\.docx unpacks to more than the 64 MB limit on unpacked size/);
    expect(ingest.output()).toMatch(/skipped b-bomb\.pdf: load: b-bomb\.pdf unpacks to more than the 64 MB limit on unpacked size/);
    expect(ingest.output()).toMatch(/indexed 1 document\(s\)/);
  }, 180_000);
});

describe('the extraction child process limits (loader, real child)', () => {
  const refusal = async (file: string, options: Parameters<typeof loadFile>[2]): Promise<AppError> => {
    const error = await loadFile(work.dir, file, options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('E_PARSE');
    return error as AppError;
  };

  beforeAll(async () => {
    fs.writeFileSync(path.join(work.dir, 'bomb.docx'), DOCX_BOMB);
    fs.writeFileSync(path.join(work.dir, 'small.docx'), await buildDocx(['2023年工作计划', '一、推进乡村振兴']));
  });

  it('stops a bomb that passes the unpacked-size cap at the memory limit, and this process lives on', async () => {
    const error = await refusal('bomb.docx', { maxUnpackedBytes: 2 ** 40, extractMemoryMb: 96, extractTimeoutMs: 120_000 });
    expect(error.message).toBe('load: bomb.docx needs more than the 96 MB memory limit for text extraction');
  }, 150_000);

  it('stops an extraction at the time limit', async () => {
    const error = await refusal('bomb.docx', { maxUnpackedBytes: 2 ** 40, extractMemoryMb: 4096, extractTimeoutMs: 300 });
    expect(error.message).toBe('load: bomb.docx took longer than the 0.3 s time limit for text extraction');
  });

  it('refuses text over the character limit', async () => {
    const error = await refusal('small.docx', { maxChars: 5 });
    expect(error.message).toBe('load: small.docx has more text than the 5-character limit on extracted text');
    expect((await loadFile(work.dir, 'small.docx')).text).toContain('推进乡村振兴');
  });
});
