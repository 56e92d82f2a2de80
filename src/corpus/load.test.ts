/** Tests for the corpus loader: the shipped corpus plus fixtures (encodings, html, docx, pdf) built in a temp dir. */

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDocx, buildPdf } from '../../test/fixtures/report-files.js';
import { AppError } from '../errors.js';
import { listCorpusFiles, loadFile } from './load.js';

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../corpus');

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'load-test-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function fixture(name: string, content: string | Uint8Array): Promise<string> {
  const full = path.join(tmp, name);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, content);
  return name;
}

/** Runs `load` and returns the AppError it rejects with, failing the test if it resolves. */
async function parseFailure(load: Promise<unknown>): Promise<AppError> {
  const error: unknown = await load.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe('E_PARSE');
  // Messages name the corpus-relative file only: no machine paths, no stacks.
  expect(appError.message).not.toContain(tmp);
  expect(appError.message).not.toMatch(/\n\s+at /);
  return appError;
}

/** Deterministic bytes for "binary" fixtures (a small LCG; no need for crypto quality). */
function pseudoRandomBytes(length: number, seed: number, avoidNul: boolean): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const byte = state >>> 24;
    out[i] = avoidNul && byte === 0 ? 1 : byte;
  }
  return out;
}

const CHINESE = '临湖镇2022年工作总结\n一年来，全镇上下坚持稳中求进工作总基调，经济运行总体平稳。\n二、2023年工作计划\n';

describe('shipped corpus', () => {
  it('lists the five report files', async () => {
    const files = await listCorpusFiles(CORPUS);
    expect(files).toHaveLength(5);
    expect(files.every((f) => f.endsWith('.txt'))).toBe(true);
    expect([...files].sort()).toEqual(files);
  });

  it('loads every file as UTF-8 with a stable sha256 of the bytes', async () => {
    for (const file of await listCorpusFiles(CORPUS)) {
      const first = await loadFile(CORPUS, file);
      const second = await loadFile(CORPUS, file);
      expect(first.file).toBe(file);
      expect(first.format).toBe('txt');
      expect(first.encoding).toBe('utf-8');
      expect(first.text.trim().length).toBeGreaterThan(1000);
      expect(first.text).not.toContain('\r');
      expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(second.hash).toBe(first.hash);
      expect(second.text).toBe(first.text);
    }
  });
});

describe('listCorpusFiles', () => {
  it('recurses, keeps supported extensions and skips dotfiles and sidecars', async () => {
    const dir = path.join(tmp, 'tree');
    const files = ['b.txt', 'a.md', 'sub/c.HTML', 'sub/deep/d.pdf', 'e.docx', 'f.htm'];
    const ignored = ['.hidden.txt', '.git/x.txt', 'b.txt.meta.json', 'x.meta.json', 'notes.doc', 'img.png', 'README'];
    for (const f of [...files, ...ignored]) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await writeFile(path.join(dir, f), 'x');
    }
    expect(await listCorpusFiles(dir)).toEqual(['a.md', 'b.txt', 'e.docx', 'f.htm', 'sub/c.HTML', 'sub/deep/d.pdf']);
  });

  it('rejects a missing directory with E_CONFIG', async () => {
    await expect(listCorpusFiles(path.join(tmp, 'nope'))).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});

describe('text files', () => {
  it('decodes GB18030 Chinese text to the same string', async () => {
    const name = await fixture('gb.txt', iconv.encode(CHINESE, 'gb18030'));
    const loaded = await loadFile(tmp, name);
    expect(loaded.text).toBe(CHINESE);
    expect(loaded.encoding).toBe('gb18030');
  });

  it('decodes very short GBK text, where chardet ties GB18030 with Big5 and others', async () => {
    const name = await fixture('short-gbk.txt', iconv.encode('中国', 'gbk'));
    expect((await loadFile(tmp, name)).text).toBe('中国');
  });

  it('decodes Big5 traditional Chinese', async () => {
    const text = '政府工作報告\n各位代表：現在，我代表鎮人民政府向大會報告工作。\n';
    const name = await fixture('big5.txt', iconv.encode(text, 'big5'));
    const loaded = await loadFile(tmp, name);
    expect(loaded.text).toBe(text);
    expect(loaded.encoding).toBe('big5');
  });

  it('falls back to chardet for non-Chinese legacy text', async () => {
    const text = 'Straße über Bürgermeister — Größe für Ämter.\nZweite Zeile mit Ärger.\n';
    const name = await fixture('latin.txt', iconv.encode(text, 'windows-1252'));
    expect(await loadFile(tmp, name)).toMatchObject({ text, encoding: 'windows-1252' });
  });

  it('strips a UTF-8 BOM and normalises CRLF', async () => {
    const name = await fixture('bom.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('第一行\r\n第二行\r第三行\n')]));
    const loaded = await loadFile(tmp, name);
    expect(loaded.text).toBe('第一行\n第二行\n第三行\n');
    expect(loaded.encoding).toBe('utf-8');
  });

  it('decodes UTF-16 with and without a BOM', async () => {
    const text = '梅李镇 2023 report\n';
    const withBom = await fixture('u16bom.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf-16le')]));
    const be = await fixture('u16be.txt', iconv.encode(text, 'utf-16be'));
    expect(await loadFile(tmp, withBom)).toMatchObject({ text, encoding: 'utf-16le' });
    expect(await loadFile(tmp, be)).toMatchObject({ text, encoding: 'utf-16be' });
  });

  it('rejects empty and whitespace-only files', async () => {
    const empty = await fixture('empty.txt', '');
    const blank = await fixture('blank.md', ' \r\n\t\n\u3000\n');
    expect((await parseFailure(loadFile(tmp, empty))).message).toBe('load: empty.txt is empty');
    expect((await parseFailure(loadFile(tmp, blank))).message).toBe('load: blank.md is empty');
  });

  it('rejects binary content renamed .txt', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
      pseudoRandomBytes(4000, 7, false),
    ]);
    const name = await fixture('sub/image.txt', png);
    expect((await parseFailure(loadFile(tmp, name))).message).toBe('load: sub/image.txt is not text (binary content)');
  });

  it('rejects NUL-free random bytes as binary', async () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const name = await fixture(`noise-${seed}.txt`, pseudoRandomBytes(4096, seed, true));
      expect((await parseFailure(loadFile(tmp, name))).message).toContain('is not text (binary content)');
    }
  });

  it('strips markdown heading markers but keeps the heading text on its own line', async () => {
    const md = '# 2022年工作回顾\n正文\n## 一、经济发展 ##\n```\n# not a heading\n```\n#话题 without space\n';
    const name = await fixture('report.md', md);
    const loaded = await loadFile(tmp, name);
    expect(loaded.format).toBe('md');
    expect(loaded.text).toBe('2022年工作回顾\n正文\n一、经济发展\n```\n# not a heading\n```\n#话题 without space\n');
  });

  it('returns UTF-8 text unchanged apart from line endings (property)', async () => {
    const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/g;
    const piece = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom('\r\n', '\r', '\n', '镇', '2023年工作计划', '\u3000'),
    );
    // Preconditions of "text": no NUL or other control characters (those mark binary content), not
    // blank, and no leading U+FEFF (it would be read back as a BOM).
    const text = fc
      .array(piece, { maxLength: 8 })
      .map((parts) => parts.join('').replace(CONTROL, ''))
      .filter((s) => s.trim() !== '' && !s.startsWith('\ufeff'));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(text, async (s) => {
        const name = await fixture(`prop/${n++}.txt`, Buffer.from(s, 'utf8'));
        const loaded = await loadFile(tmp, name);
        expect(loaded.text).toBe(s.replace(/\r\n?/g, '\n'));
        expect(loaded.encoding).toBe('utf-8');
        expect(loaded.hash).toBe(createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('html files', () => {
  const page = (charset: string): string =>
    `<!DOCTYPE html><html><head><meta charset="${charset}"><title>标题</title>` +
    '<style>body { color: red }</style><script>var secret = "脚本内容";</script></head><body>' +
    '<nav><a href="/">首页</a> | <a href="/gk">信息公开</a></nav>' +
    '<h1>Niutang Town Report</h1>' +
    '<p>第一段：全年完成<a href="https://example.com/x">地区生产总值</a>120亿元。</p>' +
    '<p>第二段<img src="chart.png" alt="图表">继续推进。</p>' +
    '<table><tr><th>项目</th><th>金额</th></tr><tr><td>税收</td><td>5亿元</td></tr></table>' +
    '<script>document.write("广告")</script></body></html>';

  it('turns body blocks into lines without scripts, styles, nav, hrefs or images', async () => {
    const name = await fixture('page.html', page('utf-8'));
    const loaded = await loadFile(tmp, name);
    expect(loaded.format).toBe('html');
    expect(loaded.encoding).toBe('utf-8');
    const lines = loaded.text.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([
      'Niutang Town Report',
      '第一段：全年完成地区生产总值120亿元。',
      '第二段继续推进。',
      '项目 金额',
      '税收 5亿元',
    ]);
    expect(loaded.text).not.toMatch(/脚本|广告|color|首页|https?:|chart\.png/);
  });

  it('respects <meta charset> for legacy-encoded pages', async () => {
    const name = await fixture('gbk.htm', iconv.encode(page('gb2312'), 'gb18030'));
    const loaded = await loadFile(tmp, name);
    expect(loaded.encoding).toBe('gb18030');
    expect(loaded.text).toContain('第一段：全年完成地区生产总值120亿元。');
  });

  it('prefers valid UTF-8 over a stale meta charset', async () => {
    const name = await fixture('stale.html', page('gb2312'));
    const loaded = await loadFile(tmp, name);
    expect(loaded.encoding).toBe('utf-8');
    expect(loaded.text).toContain('第二段继续推进。');
  });
});

describe('docx files', () => {
  it('extracts paragraphs as lines', async () => {
    const name = await fixture('report.docx', await buildDocx(['2023年工作计划', '一、推进乡村振兴']));
    const loaded = await loadFile(tmp, name);
    expect(loaded.format).toBe('docx');
    expect(loaded.encoding).toBeUndefined();
    expect(loaded.text.trim()).toBe('2023年工作计划\n一、推进乡村振兴');
  });

  it('rejects a truncated docx with a short reason', async () => {
    const full = await buildDocx(['2023年工作计划', '一、推进乡村振兴']);
    const name = await fixture('broken.docx', full.subarray(0, Math.floor(full.length / 2)));
    const error = await parseFailure(loadFile(tmp, name));
    expect(error.message).toMatch(/^load: broken\.docx is not a readable \.docx \(.+\)$/);
  });

  it('rejects a docx with no text as empty', async () => {
    const name = await fixture('blank.docx', await buildDocx([]));
    expect((await parseFailure(loadFile(tmp, name))).message).toBe('load: blank.docx is empty');
  });
});

describe('pdf files', () => {
  it('extracts the text layer, pages joined with newlines and no page markers', async () => {
    const name = await fixture(
      'report.pdf',
      buildPdf('BT /F1 24 Tf 72 720 Td (Town report 2023) Tj ET\nBT /F1 12 Tf 72 690 Td (Second line) Tj ET'),
    );
    const loaded = await loadFile(tmp, name);
    expect(loaded.format).toBe('pdf');
    expect(loaded.text).toContain('Town report 2023');
    expect(loaded.text).toContain('Second line');
    expect(loaded.text).not.toMatch(/-- 1 of 1 --/);
  });

  it('rejects a page without text operators as having no text layer', async () => {
    const name = await fixture('scan.pdf', buildPdf('0 0 1 rg 72 72 400 600 re f'));
    expect((await parseFailure(loadFile(tmp, name))).message).toBe(
      'load: scan.pdf has no text layer (scanned image?)',
    );
  });

  it('rejects a password-protected pdf as encrypted', async () => {
    // Standard security handler with made-up /O and /U: the empty user password cannot open it.
    const hex = (bytes: number): string => `<${'ab'.repeat(bytes)}>`;
    const pdf = buildPdf('BT /F1 24 Tf 72 720 Td (Secret) Tj ET', {
      encrypt: `<< /Filter /Standard /V 1 /R 2 /O ${hex(32)} /U ${hex(32)} /P -4 >>`,
      trailer: `/Encrypt 6 0 R /ID [${hex(16)} ${hex(16)}] `,
    });
    const name = await fixture('locked.pdf', pdf);
    expect((await parseFailure(loadFile(tmp, name))).message).toBe('load: locked.pdf is encrypted');
  });

  it('rejects bytes that are not a pdf', async () => {
    const name = await fixture('fake.pdf', 'just some text');
    expect((await parseFailure(loadFile(tmp, name))).message).toMatch(/^load: fake\.pdf is not a readable PDF \(/);
  });
});

describe('limits and bad paths', () => {
  it('rejects files over maxBytes before parsing', async () => {
    const name = await fixture('big.txt', 'x'.repeat(2048));
    expect((await parseFailure(loadFile(tmp, name, { maxBytes: 1024 }))).message).toBe(
      'load: big.txt is larger than the 1024-byte limit',
    );
    const mb = await fixture('mb.txt', Buffer.alloc(1024 * 1024 + 1, 0x61));
    expect((await parseFailure(loadFile(tmp, mb, { maxBytes: 1024 * 1024 }))).message).toBe(
      'load: mb.txt is larger than the 1 MB limit',
    );
    expect((await loadFile(tmp, name, { maxBytes: 2048 })).text).toHaveLength(2048);
  });

  it('rejects unknown extensions, missing files and paths outside the corpus', async () => {
    const doc = await fixture('old.doc', 'x');
    expect((await parseFailure(loadFile(tmp, doc))).message).toBe('load: old.doc has an unsupported file type (.doc)');
    expect((await parseFailure(loadFile(tmp, 'missing.txt'))).message).toBe('load: missing.txt does not exist');
    expect((await parseFailure(loadFile(tmp, '../etc/passwd.txt'))).message).toBe(
      'load: ../etc/passwd.txt is outside the corpus directory',
    );
  });
});
