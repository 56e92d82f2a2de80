/**
 * Corpus loader: finds report files under the corpus directory and turns each one (txt, md, html,
 * docx, pdf) into plain text plus a content hash, detecting legacy Chinese encodings on the way.
 */

import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import chardet from 'chardet';
import { convert as htmlToText } from 'html-to-text';
import iconv from 'iconv-lite';
import { AppError } from '../errors.js';
import type { LoadedFile, SourceFormat } from '../domain/types.js';
import { formatBytes } from './extract.js';

/** Default ceiling on a corpus file's size: 20 MiB. */
export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;

/** Limits on extracting .docx and .pdf text; each, when passed, gives E_PARSE naming it. */
export interface ExtractionLimits {
  /** Most bytes the parsed parts may inflate to (zip entries, PDF Flate streams). Default 64 MiB. */
  maxUnpackedBytes?: number;
  /** Most characters of extracted text. Default 2,000,000 (a long report has ~100,000). */
  maxChars?: number;
  /** Heap limit of the extraction child process (--max-old-space-size), MB. Default 512. */
  extractMemoryMb?: number;
  /** Longest an extraction may take, ms. Default 60,000. */
  extractTimeoutMs?: number;
}

export const DEFAULT_EXTRACTION_LIMITS: Readonly<Required<ExtractionLimits>> = Object.freeze({
  maxUnpackedBytes: 64 * 1024 * 1024,
  maxChars: 2_000_000,
  extractMemoryMb: 512,
  extractTimeoutMs: 60_000,
});

/** Options for {@link loadFile}. */
export interface LoadOptions extends ExtractionLimits {
  /** Files larger than this many bytes are rejected with E_PARSE. Default 20 MiB. */
  maxBytes?: number;
}

function definedOnly(options: ExtractionLimits): ExtractionLimits {
  return Object.fromEntries(
    (['maxUnpackedBytes', 'maxChars', 'extractMemoryMb', 'extractTimeoutMs'] as const)
      .filter((k) => options[k] !== undefined)
      .map((k) => [k, options[k]]),
  );
}

const FORMAT_BY_EXTENSION: Readonly<Record<string, SourceFormat>> = {
  '.txt': 'txt',
  '.md': 'md',
  '.html': 'html',
  '.htm': 'html',
  '.docx': 'docx',
  '.pdf': 'pdf',
};

/** Share of control (or, for guessed encodings, replacement) characters above which bytes are "not text". */
const MAX_SUSPICIOUS_SHARE = 0.05;

/**
 * Lists the loadable files under `dir`, recursively: relative paths with forward slashes, sorted by
 * code unit so the order (and anything derived from it, such as ids) is the same on every machine.
 * Dotfiles and dot-directories are skipped, as are `*.meta.json` sidecars and unknown extensions.
 *
 * @throws AppError E_CONFIG when `dir` cannot be read.
 */
export async function listCorpusFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  try {
    await walk(dir, '', found);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('E_CONFIG', `load: corpus directory ${dir} cannot be read (${errnoOf(error)})`, {
      cause: error,
    });
  }
  return found.sort();
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  const entries = await readdir(path.join(root, rel), { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    let isFile = entry.isFile();
    if (entry.isDirectory()) {
      await walk(root, childRel, out);
      continue;
    }
    if (entry.isSymbolicLink()) {
      // Follow links to files only: following directory links could loop forever.
      const target = await stat(path.join(root, childRel)).catch(() => undefined);
      isFile = target?.isFile() ?? false;
    }
    if (!isFile || entry.name.toLowerCase().endsWith('.meta.json')) continue;
    if (formatOf(entry.name) !== undefined) out.push(childRel);
  }
}

/**
 * Reads one corpus file and extracts its text. The hash is sha256 (hex) of the raw bytes, so it
 * changes exactly when the file does. Line endings in the text are normalised to `\n`.
 *
 * @param dir - The corpus directory.
 * @param relPath - Path relative to `dir` (as returned by {@link listCorpusFiles}).
 * @throws AppError E_PARSE, with a message naming `relPath` only, when the file is missing, too
 *   large, of an unknown type, empty, binary, encrypted, corrupt or without a text layer.
 */
export async function loadFile(dir: string, relPath: string, options: LoadOptions = {}): Promise<LoadedFile> {
  const file = relPath.replace(/\\/g, '/');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!(maxBytes > 0) || !Number.isFinite(maxBytes)) {
    throw new AppError('E_CONFIG', `load: maxBytes must be a positive number, got ${String(maxBytes)}`);
  }
  if (path.isAbsolute(file) || /^[A-Za-z]:/.test(file) || file.split('/').includes('..')) {
    throw parseError(file, 'is outside the corpus directory');
  }
  const format = formatOf(file);
  if (format === undefined) {
    const ext = path.extname(file);
    throw parseError(file, `has an unsupported file type (${ext === '' ? 'no extension' : ext})`);
  }

  const absolute = path.join(dir, file);
  let bytes: Buffer;
  try {
    // Check the size before reading so an oversized file is never pulled into memory.
    const info = await stat(absolute);
    if (!info.isFile()) throw parseError(file, 'is not a regular file');
    if (info.size > maxBytes) throw tooLarge(file, maxBytes);
    bytes = await readFile(absolute);
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = errnoOf(error);
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
    throw parseError(file, what, error);
  }
  // The file may have grown between stat and read.
  if (bytes.length > maxBytes) throw tooLarge(file, maxBytes);

  const hash = createHash('sha256').update(bytes).digest('hex');
  const result: LoadedFile = { file, format, hash, text: '' };

  switch (format) {
    case 'txt':
    case 'md': {
      const decoded = decodeText(bytes, file);
      result.encoding = decoded.encoding;
      result.text = format === 'md' ? stripHeadingMarkers(decoded.text) : decoded.text;
      break;
    }
    case 'html': {
      const decoded = decodeText(bytes, file, declaredHtmlCharset(bytes));
      result.encoding = decoded.encoding;
      result.text = normaliseNewlines(htmlToPlainText(decoded.text));
      break;
    }
    case 'docx':
    case 'pdf':
      result.text = await extractInChild(format, bytes, file, { ...DEFAULT_EXTRACTION_LIMITS, ...definedOnly(options) });
      break;
  }

  if (result.text.trim() === '') throw parseError(file, 'is empty');
  return result;
}

function formatOf(name: string): SourceFormat | undefined {
  return FORMAT_BY_EXTENSION[path.extname(name).toLowerCase()];
}

function parseError(file: string, what: string, cause?: unknown): AppError {
  return new AppError('E_PARSE', `load: ${file} ${what}`, cause === undefined ? {} : { cause });
}

function tooLarge(file: string, maxBytes: number): AppError {
  return parseError(file, `is larger than the ${formatBytes(maxBytes)} limit`);
}

function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'I/O error';
}

/** Library messages can be long or multi-line; keep the first line, bounded, for our own message. */
function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = (message.split('\n')[0] ?? '').trim();
  return line.length > 120 ? `${line.slice(0, 117)}...` : line || 'unknown error';
}

function normaliseNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

// ---------------------------------------------------------------------------------------------
// Encoding detection

interface Decoded {
  text: string;
  /** Lower-case encoding name, e.g. utf-8, gb18030, big5, utf-16le. */
  encoding: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes text bytes. UTF-8 is tried first because legacy CJK text is almost never valid UTF-8, while
 * the reverse (UTF-8 that happens to look like GBK) is common; a declared charset (HTML meta) comes
 * next, then detection. Scraped pages saved as UTF-8 often keep a stale `charset=gb2312`, which is
 * why a declaration does not override valid UTF-8.
 */
function decodeText(bytes: Buffer, file: string, declared?: string): Decoded {
  const notText = (): AppError => parseError(file, 'is not text (binary content)');

  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(3));
    return checked({ text, encoding: 'utf-8' }, true, notText);
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    const encoding = bytes[0] === 0xff ? 'utf-16le' : 'utf-16be';
    return checked({ text: iconv.decode(bytes.subarray(2), encoding), encoding }, true, notText);
  }

  const hasNul = bytes.includes(0);
  if (!hasNul) {
    try {
      return checked({ text: UTF8.decode(bytes), encoding: 'utf-8' }, false, notText);
    } catch (error) {
      if (error instanceof AppError) throw error;
      // Not UTF-8: fall through to the legacy encodings.
    }
  } else {
    const utf16 = utf16WithoutBom(bytes);
    if (utf16 === undefined) throw notText();
    return checked({ text: iconv.decode(bytes, utf16), encoding: utf16 }, true, notText);
  }

  const declaredEncoding = declared === undefined ? undefined : iconvName(declared);
  if (declaredEncoding !== undefined) {
    return checked({ text: iconv.decode(bytes, declaredEncoding), encoding: declaredEncoding }, true, notText);
  }

  const encoding = detectLegacyEncoding(bytes);
  if (encoding === undefined) throw notText();
  return checked({ text: iconv.decode(bytes, encoding), encoding }, true, notText);
}

/**
 * Rejects decoded text that looks like binary: NULs, or too many control characters (and, when the
 * encoding was guessed rather than proven, too many U+FFFD replacement characters).
 */
function checked(decoded: Decoded, countReplacements: boolean, notText: () => AppError): Decoded {
  let total = 0;
  let suspicious = 0;
  for (const char of decoded.text) {
    total++;
    const cp = char.codePointAt(0) ?? 0;
    if (cp === 0) throw notText();
    const isControl =
      (cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0b && cp !== 0x0c && cp !== 0x0d) ||
      (cp >= 0x7f && cp <= 0x9f);
    if (isControl || (countReplacements && cp === 0xfffd)) suspicious++;
  }
  if (total > 0 && suspicious / total > MAX_SUSPICIOUS_SHARE) throw notText();
  return { text: normaliseNewlines(decoded.text), encoding: decoded.encoding };
}

/**
 * UTF-16 without a BOM shows up as NUL high bytes (of ASCII characters) all at odd offsets (LE) or
 * all at even offsets (BE). Anything else with NULs is treated as binary.
 */
function utf16WithoutBom(bytes: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  if (bytes.length < 4 || bytes.length % 2 !== 0) return undefined;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      if (i % 2 === 0) even++;
      else odd++;
    }
  }
  const units = bytes.length / 2;
  // Require a real share of ASCII so that binary data with a few stray NULs is not taken for text.
  if (even === 0 && odd >= units * 0.1) return 'utf-16le';
  if (odd === 0 && even >= units * 0.1) return 'utf-16be';
  return undefined;
}

/** Maps a charset label (from chardet or a meta tag) to the iconv-lite name we decode with. */
function iconvName(label: string): string | undefined {
  const name = label.trim().toLowerCase();
  // GB2312 and GBK are subsets of GB18030; decoding with the superset loses nothing and avoids
  // replacement characters for the GBK extensions that files labelled gb2312 routinely contain.
  if (['gb2312', 'gbk', 'x-gbk', 'cp936', 'gb_2312-80', 'euc-cn', 'gb18030'].includes(name)) return 'gb18030';
  if (name === 'utf-8' || name === 'utf8') return 'utf-8';
  return iconv.encodingExists(name) ? name : undefined;
}

/**
 * Guesses the encoding of bytes that are not UTF-8. chardet is unreliable on short Chinese text: it
 * often ties GB18030 with Big5, EUC-JP and EUC-KR, or ranks a Japanese or Korean encoding first. The
 * corpus is Chinese, so whenever chardet leans East Asian we choose between GB18030 and Big5 by how
 * many common Chinese characters each decoding yields (ties go to chardet's confidence, then to
 * GB18030, as the reports are from the mainland). Only when neither reading contains any common
 * Chinese character do we trust chardet's first choice.
 */
function detectLegacyEncoding(bytes: Buffer): string | undefined {
  const matches = chardet.analyse(bytes);
  const top = matches[0];
  if (top === undefined) return undefined;
  const leansCjk =
    top.lang === 'zh' ||
    top.lang === 'ja' ||
    top.lang === 'ko' ||
    matches.some((m) => m.lang === 'zh' && m.confidence >= top.confidence - 10);
  if (leansCjk) {
    const confidence = (name: string): number => matches.find((m) => m.name === name)?.confidence ?? 0;
    const gb = chineseScore(iconv.decode(bytes, 'gb18030'));
    const big5 = chineseScore(iconv.decode(bytes, 'big5'));
    if (gb > 0 || big5 > 0) {
      return big5 * 100 + confidence('Big5') > gb * 100 + confidence('GB18030') ? 'big5' : 'gb18030';
    }
  }
  for (const match of matches) {
    const name = iconvName(match.name);
    // chardet sometimes proposes UTF-16/32 for byte counts those encodings cannot produce.
    const unit = name?.startsWith('utf-32') ? 4 : name?.startsWith('utf-16') ? 2 : 1;
    if (name !== undefined && bytes.length % unit === 0) return name;
  }
  return undefined;
}

/** Frequent Chinese characters, simplified and traditional forms, used to score candidate decodings. */
const COMMON_HAN = new Set(
  '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而' +
    '方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好' +
    '应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向' +
    '道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特' +
    '件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队' +
    '南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风' +
    '切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许' +
    '步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列' +
    '习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派' +
    '层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严镇村乡街' +
    '這為個國時來們於對會發動過說產種後學經進著電裡現實兩體機當點從業應開還義關與間樣線內數麼質氣變條沒結問' +
    '無係軍題黨員總設長頭資邊級圖統較將組見計別論運農幾區強決幹戰則據處隊給門規熱領東導壓爭濟階術極聯認權證' +
    '採轉單風帶場車務萬達積議聲報鬥類離華確張馬節話況溫傳許廣記觀織裝眾書復兒須際驗連斷難礦週備辦響約歷構稱' +
    '準號維劃選標寫親養層卻專狀廠識屬圓調滿縣參紅細聽該鐵價嚴鎮鄉',
);

function chineseScore(text: string): number {
  let score = 0;
  for (const char of text) {
    if (COMMON_HAN.has(char)) score++;
    else if (char === '\ufffd') score -= 3;
  }
  return score;
}

/** Reads `<meta charset>` or `<meta http-equiv content="...; charset=...">` from the page head. */
function declaredHtmlCharset(bytes: Buffer): string | undefined {
  // The declaration is ASCII and, per the HTML spec, must sit in the first 1024 bytes; read a little
  // more because real pages are sloppy.
  const head = bytes.subarray(0, 4096).toString('latin1');
  const match = /<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:+-]+)/i.exec(head);
  return match?.[1];
}

// ---------------------------------------------------------------------------------------------
// Per-format extraction

/** CommonMark ATX heading: up to 3 spaces, 1-6 `#`, a space, the text, optional closing `#`s. */
const ATX_HEADING = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Drops the `#` markers of Markdown headings (outside fenced code) so that a heading reads like the
 * same heading in a .txt report; the heading text stays on its own line.
 */
function stripHeadingMarkers(text: string): string {
  let fence: string | undefined;
  return text
    .split('\n')
    .map((line) => {
      const fenceMatch = FENCE.exec(line);
      if (fenceMatch?.[1] !== undefined) {
        const marker = fenceMatch[1];
        if (fence === undefined) fence = marker;
        else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
        return line;
      }
      if (fence !== undefined) return line;
      const heading = ATX_HEADING.exec(line);
      return heading === null ? line : (heading[1] ?? '');
    })
    .join('\n');
}

const HEADING_SELECTORS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({
  selector,
  options: { uppercase: false },
}));

/**
 * Converts a page to text with block elements on their own lines. Tables are laid out as one line
 * per row with cells separated by a space: html-to-text's default either glues cells together
 * (layout tables) or pads and wraps them into columns (data tables), and Chinese government sites
 * use tables for both page layout and statistics.
 */
function htmlToPlainText(html: string): string {
  const text = htmlToText(html, {
    wordwrap: false,
    formatters: {
      tableCell: (elem, walk, builder) => {
        walk(elem.children, builder);
        builder.addLiteral(' ');
      },
    },
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'noscript', format: 'skip' },
      { selector: 'template', format: 'skip' },
      // Site navigation is never report content, and the markup is the last place it can be told apart.
      { selector: 'nav', format: 'skip' },
      { selector: 'table', format: 'block' },
      { selector: 'tr', format: 'block' },
      { selector: 'td', format: 'tableCell' },
      { selector: 'th', format: 'tableCell' },
      ...HEADING_SELECTORS,
    ],
  });
  // Cell separators leave trailing spaces and empty cells leave runs of blank lines.
  return text.replace(/[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n');
}

/**
 * Extracts a .docx or .pdf in a child process (extract-child.ts) with a heap limit, a resident-memory
 * watchdog (inflated buffers live outside the V8 heap) and a time limit, so a decompression bomb
 * that gets past the unpacked-size checks kills the child, never this process.
 */
async function extractInChild(format: 'docx' | 'pdf', bytes: Buffer, file: string, limits: Required<ExtractionLimits>): Promise<string> {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './extract-child.ts' : './extract-child.js', here));
  const loader = fromSource ? ['--import', pathToFileURL(createRequire(here).resolve('tsx')).href] : [];
  const child = fork(entry, [], {
    execArgv: [`--max-old-space-size=${limits.extractMemoryMb}`, ...loader],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  // Below this process: a server's event loop goes first when the cores are busy.
  try {
    if (child.pid) os.setPriority(child.pid, Math.min(19, os.getPriority() + 10));
  } catch {
    // Not allowed here: the child runs at this process's priority.
  }
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  return new Promise<string>((resolve, reject) => {
    let verdict: AppError | undefined;
    let answer: { ok: true; text: string } | { ok: false; code: string; message: string } | undefined;
    const stop = (error: AppError) => {
      verdict ??= error;
      child.kill('SIGKILL');
    };
    const memoryLimit = (): AppError => parseError(file, `needs more than the ${limits.extractMemoryMb} MB memory limit for text extraction`);
    const timer = setTimeout(() => stop(parseError(file, `took longer than the ${limits.extractTimeoutMs / 1000} s time limit for text extraction`)), limits.extractTimeoutMs);
    // Twice the heap limit leaves room for the parser's buffers; more means a bomb is inflating.
    const rssLimit = limits.extractMemoryMb * 2 * 1024 * 1024;
    const watchdog = setInterval(() => {
      readFile(`/proc/${child.pid}/statm`, 'utf8').then(
        (statm) => {
          const pages = Number(statm.split(' ')[1]);
          if (pages * 4096 > rssLimit) stop(memoryLimit());
        },
        () => undefined, // not Linux, or already gone
      );
    }, 100);
    child.on('message', (message: typeof answer) => {
      answer = message;
    });
    child.on('error', (error) => stop(parseError(file, `could not be extracted (${shortReason(error)})`, error)));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearInterval(watchdog);
      if (verdict) return reject(verdict);
      if (answer?.ok) return resolve(answer.text);
      if (answer) return reject(new AppError('E_PARSE', answer.message));
      if (/heap out of memory|allocation failed/i.test(stderr) || code === 134 || signal === 'SIGABRT') return reject(memoryLimit());
      reject(parseError(file, `could not be extracted (the extraction process ended with ${signal ?? `code ${code}`})`));
    });
    child.send({ format, file, bytes, limits: { maxUnpackedBytes: limits.maxUnpackedBytes, maxChars: limits.maxChars } });
  });
}
