/**
 * Text extraction from .docx and .pdf bytes, with the limits that keep a decompression bomb from
 * exhausting memory: a cap on unpacked size (read from the zip directory, or measured by inflating
 * PDF streams with a bounded output) and on extracted characters. It runs inside the extraction
 * child process (extract-child.ts), which adds a heap and a time limit; load.ts starts that child.
 */
import zlib from 'node:zlib';
import { AppError } from '../errors.js';

/** Limits applied while extracting; every one, when exceeded, gives E_PARSE naming it. */
export interface ExtractLimits {
  /** Most bytes the parts a parser reads may inflate to (zip entries, PDF Flate streams). */
  maxUnpackedBytes: number;
  /** Most characters of extracted text. */
  maxChars: number;
}

/** A refusal the child sends back as data: load.ts rethrows it as the same AppError. */
export interface ExtractFailure {
  code: string;
  message: string;
}

export function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return mib >= 1 ? `${Number(mib.toFixed(1))} MB` : `${bytes}-byte`;
}

function parseError(file: string, what: string, cause?: unknown): AppError {
  return new AppError('E_PARSE', `load: ${file} ${what}`, cause === undefined ? {} : { cause });
}

function normaliseNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** Library messages can be long or multi-line; keep the first line, bounded, for our own message. */
function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = (message.split('\n')[0] ?? '').trim();
  return line.length > 120 ? `${line.slice(0, 117)}...` : line || 'unknown error';
}

function checkChars(text: string, file: string, limits: ExtractLimits): string {
  if (text.length > limits.maxChars) {
    throw parseError(file, `has more text than the ${limits.maxChars.toLocaleString('en')}-character limit on extracted text`);
  }
  return text;
}

function unpackedTooLarge(file: string, limits: ExtractLimits): AppError {
  return parseError(file, `unpacks to more than the ${formatBytes(limits.maxUnpackedBytes)} limit on unpacked size`);
}

/**
 * Sums the uncompressed sizes that a .docx's zip directory declares for the parts a text parser
 * inflates (XML and relationships; media and embedded files are never read for text). ZIP64
 * entries (sizes of 4 GB and more) count as over any limit. Returns undefined when there is no
 * readable directory, leaving the verdict to the parser.
 */
export function declaredUnpackedSize(bytes: Buffer): number | undefined {
  // End of central directory: 22 bytes plus a comment of at most 65535, at the end of the file.
  const from = Math.max(0, bytes.length - 22 - 0xffff);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= from; i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const entries = bytes.readUInt16LE(eocd + 10);
  let at = bytes.readUInt32LE(eocd + 16);
  let total = 0;
  for (let n = 0; n < entries; n++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== 0x02014b50) return undefined;
    const size = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const name = bytes.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const skipped = /^word\/(media|embeddings)\//i.test(name);
    if (!skipped) total += size === 0xffffffff ? Number.POSITIVE_INFINITY : size;
    at += 46 + nameLength + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
  }
  return total;
}

export async function extractDocx(bytes: Buffer, file: string, limits: ExtractLimits): Promise<string> {
  const declared = declaredUnpackedSize(bytes);
  if (declared !== undefined && declared > limits.maxUnpackedBytes) throw unpackedTooLarge(file, limits);
  const { default: mammoth } = await import('mammoth');
  let raw: string;
  try {
    raw = (await mammoth.extractRawText({ buffer: bytes })).value;
  } catch (error) {
    throw parseError(file, `is not a readable .docx (${docxReason(error)})`, error);
  }
  // mammoth ends every paragraph with a blank line; one paragraph per line is what later stages expect.
  return checkChars(normaliseNewlines(raw).replace(/\n\n/g, '\n'), file, limits);
}

function docxReason(error: unknown): string {
  const reason = shortReason(error);
  if (/central directory|zip|signature|corrupt/i.test(reason)) return 'corrupt or truncated zip archive';
  if (/main document part/i.test(reason)) return 'no word/document.xml in the archive';
  return reason;
}

/**
 * Inflates every Flate-encoded, non-image stream of a PDF with a bounded output and throws when
 * their total passes the limit: pdf.js inflates streams whole, in memory, before reading them.
 * Streams that do not inflate cleanly are left to pdf.js (it reports or skips them).
 */
export function checkPdfStreams(bytes: Buffer, file: string, limits: ExtractLimits): void {
  const text = bytes.toString('latin1');
  let remaining = limits.maxUnpackedBytes;
  const keyword = /\bstream(\r\n|\n|\r)/g;
  for (let match = keyword.exec(text); match; match = keyword.exec(text)) {
    const start = match.index + match[0].length;
    const objStart = text.lastIndexOf(' obj', match.index);
    const dict = text.slice(objStart < 0 ? Math.max(0, match.index - 4096) : objStart, match.index);
    let end = text.indexOf('endstream', start);
    if (end < 0) end = text.length;
    keyword.lastIndex = end;
    if (!/\/(FlateDecode|Fl)\b/.test(dict) || /\/Subtype\s*\/Image\b/.test(dict)) continue;
    try {
      const out = zlib.inflateSync(bytes.subarray(start, end), { maxOutputLength: remaining + 1, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      remaining -= out.length;
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw unpackedTooLarge(file, limits);
      // A stream that is corrupt or uses a predictor pdf.js handles: not ours to judge.
    }
    if (remaining < 0) throw unpackedTooLarge(file, limits);
  }
}

export async function extractPdf(bytes: Buffer, file: string, limits: ExtractLimits): Promise<string> {
  checkPdfStreams(bytes, file, limits);
  const { PDFParse, PasswordException } = await import('pdf-parse');
  // verbosity 0 (errors only) keeps pdf.js from writing warnings to the console;
  // isEvalSupported false stops pdf.js compiling font programs with eval().
  const parser = new PDFParse({ data: bytes, verbosity: 0, isEvalSupported: false });
  try {
    const result = await parser.getText();
    // Join result.pages rather than using result.text, which carries "-- 1 of N --" page markers.
    const text = normaliseNewlines(result.pages.map((page) => page.text).join('\n'));
    if (text.trim() === '') throw parseError(file, 'has no text layer (scanned image?)');
    return checkChars(text, file, limits);
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof PasswordException) throw parseError(file, 'is encrypted', error);
    throw parseError(file, `is not a readable PDF (${shortReason(error)})`, error);
  } finally {
    await parser.destroy().catch(() => undefined);
  }
}
