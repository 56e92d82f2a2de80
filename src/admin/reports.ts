/**
 * Report management for staff: the corpus directory as a set of reports that can be listed (with
 * their metadata and ingest status), added, replaced and removed. Used by the admin API and the
 * admin CLI. An upload is checked (name, size, declared type, magic bytes, then read by the very
 * loader ingest uses) in a temporary dot-file inside the corpus directory, which ingest never
 * lists, and lands under its name by rename: a reader sees the old file or the new one, never
 * half of one. Removed reports go to `.trash/` in the corpus directory, not into oblivion.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fsyncPath, writeSynced } from '../durable-file.js';
import { DEFAULT_MAX_BYTES, listCorpusFiles, loadFile } from '../corpus/load.js';
import { docIdOf } from '../corpus/structure.js';
import { AppError, isAppError, type ErrorKind } from '../errors.js';
import type { FileRecord } from '../store/index-store.js';
import type { DocumentMeta } from '../domain/types.js';
import { hasControlChars } from '../domain/text.js';

/** File types a report may be uploaded as. */
export const REPORT_EXTENSIONS = ['.txt', '.md', '.html', '.htm', '.docx', '.pdf'] as const;

/** Content types accepted per extension; application/octet-stream (or none) is accepted for all. */
const CONTENT_TYPES: Readonly<Record<string, readonly string[]>> = {
  '.txt': ['text/plain'],
  '.md': ['text/markdown', 'text/x-markdown', 'text/plain'],
  '.html': ['text/html'],
  '.htm': ['text/html'],
  '.pdf': ['application/pdf'],
  '.docx': ['application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
};

/** Leading bytes of formats that are never a text report (checked for .txt, .md, .html). */
const BINARY_SIGNATURES: ReadonlyArray<[string, number[]]> = [
  ['a PDF', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['a zip archive (docx, xlsx ...)', [0x50, 0x4b, 0x03, 0x04]],
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a legacy Office file (.doc, .xls)', [0xd0, 0xcf, 0x11, 0xe0]],
  ['an executable', [0x7f, 0x45, 0x4c, 0x46]],
  ['an executable', [0x4d, 0x5a]],
  ['a gzip archive', [0x1f, 0x8b]],
  ['a RAR archive', [0x52, 0x61, 0x72, 0x21]],
  ['a 7z archive', [0x37, 0x7a, 0xbc, 0xaf]],
];

/** Where a report stands with respect to the live index. */
export type ReportStatus =
  /** In the live index, with these very bytes. */
  | 'indexed'
  /** New or changed since the live index was built: the next reindex embeds it. */
  | 'pending'
  /** The last reindex could not read it (see statusDetail); it is not in the index. */
  | 'failed'
  /** Same bytes as another report, which is indexed instead. */
  | 'duplicate'
  /** Removed from the corpus but still in the live index until the next reindex. */
  | 'deleted';

export interface ReportEntry {
  file: string;
  docId: string;
  status: ReportStatus;
  /** Why it failed, or which report it duplicates. */
  statusDetail?: string;
  /** Size in bytes (absent for `deleted`). */
  bytes?: number;
  /** Last modification, ISO 8601 (absent for `deleted`). */
  modified?: string;
  /** sha256 of the bytes (absent for `deleted`). */
  sha256?: string;
  /** Whether a `<name>.meta.json` sidecar gives metadata the text does not state. */
  sidecar: boolean;
  /** Metadata from the live index, when the report is in it. */
  meta?: Pick<DocumentMeta, 'title' | 'town' | 'district' | 'date' | 'years'> & { chunks?: number };
}

export interface StatusSources {
  /** What the live generation recorded of each corpus file (GenerationInfo.files), if there is one. */
  files?: Record<string, FileRecord> | undefined;
  /** Metadata of the live index's documents by docId. */
  documents?: ReadonlyMap<string, ReportEntry['meta']>;
  /** Files the last reindex could not read, and when that reindex started. */
  lastFailures?: { startedAt: string; skipped: ReadonlyArray<{ file: string; message: string }> } | undefined;
}

export interface ReportStoreOptions {
  corpusDir: string;
  /** Largest accepted upload, in bytes. Default: the loader's limit (20 MiB). */
  maxBytes?: number;
}

export interface UploadInput {
  /** The file name the client gave; sanitised before use. Optional when replacing. */
  name?: string | undefined;
  bytes: Uint8Array;
  /** The request's Content-Type, if any. */
  contentType?: string | undefined;
}

export interface SavedReport {
  file: string;
  docId: string;
  bytes: number;
  sha256: string;
  /** The file it replaced, when replacing. */
  replaced?: string;
}

export interface RemovedReport {
  file: string;
  docId: string;
  /** Where the file now lies, relative to the corpus directory. */
  trashedAs: string;
}

export interface ReportStore {
  list(sources?: StatusSources): Promise<ReportEntry[]>;
  /** Adds a new report; 409 when the name, its id or its content is taken. */
  add(input: UploadInput): Promise<SavedReport>;
  /** Replaces the report with this docId; 404 when there is none. */
  replace(docId: string, input: UploadInput): Promise<SavedReport>;
  /** Moves the report (and its sidecar) to .trash/; 404 when there is none. */
  remove(docId: string): Promise<RemovedReport>;
}

const invalid = (message: string, kind?: ErrorKind): AppError => new AppError('E_UPLOAD_INVALID', message, kind ? { kind } : {});

/**
 * Makes a client's file name safe to create in the corpus directory: the last path segment
 * only, NFC, no control characters, no leading dot, characters other than letters, digits, CJK,
 * `.`, `_` and `-` turned into `-`, at most 120 characters, and a supported extension.
 * Throws E_UPLOAD_INVALID (400) when nothing acceptable is left.
 */
export function sanitizeReportName(raw: string): string {
  const base = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  if (hasControlChars(base, { lineBreaks: false })) throw invalid('upload: the file name contains control characters');
  const ext = path.extname(base).toLowerCase();
  if (!(REPORT_EXTENSIONS as readonly string[]).includes(ext)) {
    throw invalid(`upload: reports must be ${REPORT_EXTENSIONS.join(', ')} files${ext ? `, got ${ext.slice(0, 12)}` : ''}`, 'unsupported-type');
  }
  const stem = base
    .slice(0, base.length - ext.length)
    .replace(/[^\p{L}\p{N}_.-]+/gu, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 120);
  if (stem === '') throw invalid('upload: the file name has nothing usable before its extension');
  if (stem.toLowerCase().endsWith('.meta')) throw invalid('upload: .meta.json sidecars cannot be uploaded as reports');
  return `${stem}${ext}`;
}

/** Checks the declared content type against the extension (415 on a mismatch). */
function checkContentType(file: string, contentType: string | undefined): void {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '' || type === 'application/octet-stream') return;
  const ext = path.extname(file).toLowerCase();
  if (!(CONTENT_TYPES[ext] ?? []).includes(type)) {
    throw invalid(`upload: Content-Type ${type.slice(0, 80)} does not match a ${ext} file; send the file's own type or application/octet-stream`, 'unsupported-type');
  }
}

const startsWith = (bytes: Uint8Array, signature: readonly number[]): boolean => signature.every((b, i) => bytes[i] === b);

/** Checks the leading bytes against the extension (415 on a mismatch). */
function checkMagicBytes(file: string, bytes: Uint8Array): void {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.pdf') {
    if (!startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) throw invalid(`upload: ${file} does not start like a PDF (%PDF-)`, 'unsupported-type');
    return;
  }
  if (ext === '.docx') {
    if (!startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) throw invalid(`upload: ${file} is not a .docx (zip) file`, 'unsupported-type');
    return;
  }
  for (const [what, signature] of BINARY_SIGNATURES) {
    if (startsWith(bytes, signature)) throw invalid(`upload: ${file} is ${what}, not a ${ext} text file`, 'unsupported-type');
  }
}

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

function sidecarOf(file: string): string {
  return file.replace(/\.[^./]+$/, '') + '.meta.json';
}

/** The hash ingest records for a file: its bytes', combined with its sidecar's when it has one (see build.ts). */
function indexedHashOf(corpusDir: string, file: string, contentHash: string): string {
  const sidecar = path.join(corpusDir, sidecarOf(file));
  if (!fs.existsSync(sidecar)) return contentHash;
  return sha256(contentHash + sha256(fs.readFileSync(sidecar, 'utf8')));
}

/**
 * Removes `.upload-*` files an upload left behind when its process died mid-check (kill -9, out of
 * memory): the store calls it when created, i.e. at every server start. Returns what it removed.
 */
export function sweepUploads(corpusDir: string): string[] {
  if (!fs.existsSync(corpusDir)) return [];
  const removed: string[] = [];
  for (const entry of fs.readdirSync(corpusDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.startsWith('.upload-')) continue;
    const full = path.join(entry.parentPath, entry.name);
    fs.rmSync(full, { force: true });
    removed.push(path.relative(corpusDir, full));
  }
  return removed;
}

export function createReportStore(options: ReportStoreOptions): ReportStore {
  const { corpusDir } = options;
  sweepUploads(corpusDir);
  const maxBytes = Math.min(options.maxBytes ?? DEFAULT_MAX_BYTES, DEFAULT_MAX_BYTES);
  // Mutations run one at a time, so two uploads cannot both pass the "name is free" check.
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(run: () => Promise<T>): Promise<T> => {
    const next = chain.then(run, run);
    chain = next.catch(() => undefined);
    return next;
  };

  const corpusFiles = async (): Promise<string[]> => (fs.existsSync(corpusDir) ? listCorpusFiles(corpusDir) : []);
  const fileOf = async (docId: string): Promise<string | undefined> => (await corpusFiles()).find((f) => docIdOf(f) === docId);

  /** Validates the upload fully, then renames it into place. `replacing`: the file it replaces. */
  const save = async (input: UploadInput, replacing: string | undefined): Promise<SavedReport> => {
    const rawName = input.name ?? (replacing ? path.posix.basename(replacing) : undefined);
    if (!rawName) throw invalid('upload: name the file, e.g. ?name=report.pdf');
    let file = sanitizeReportName(rawName);
    // A replacement stays where the old file was (it may sit in a subfolder).
    if (replacing) file = path.posix.join(path.posix.dirname(replacing), file);
    const bytes = input.bytes;
    if (bytes.byteLength === 0) throw invalid(`upload: ${file} is empty`);
    if (bytes.byteLength > maxBytes) throw invalid(`upload: ${file} is larger than the ${Math.round(maxBytes / 1024 / 1024)} MB limit`, 'too-large');
    checkContentType(file, input.contentType);
    checkMagicBytes(file, bytes);

    const docId = docIdOf(file);
    const files = await corpusFiles();
    if (replacing) {
      if (docId !== docIdOf(replacing)) throw invalid(`upload: ${file} would change the document id; a replacement keeps the name ${path.posix.basename(replacing)} (any supported extension)`);
      const other = files.find((f) => f !== replacing && f === file);
      if (other) throw new AppError('E_CONFLICT', `upload: ${file} already exists`);
    } else {
      if (files.includes(file)) throw new AppError('E_CONFLICT', `upload: ${file} already exists; replace it with PUT /api/admin/documents/${docId}`);
      const sameId = files.find((f) => docIdOf(f) === docId);
      if (sameId) throw new AppError('E_CONFLICT', `upload: ${file} would have the document id of ${sameId}; rename it, or replace ${sameId} with PUT /api/admin/documents/${docId}`);
    }
    const hash = sha256(bytes);
    for (const f of files) {
      if (f === replacing) continue;
      const existing = fs.readFileSync(path.join(corpusDir, f));
      if (sha256(existing) === hash) throw new AppError('E_CONFLICT', `upload: ${file} has the same content as ${f}, which is already a report`);
    }

    fs.mkdirSync(path.join(corpusDir, path.posix.dirname(file)), { recursive: true });
    // A dot-file: ingest skips it, so a run that starts meanwhile never reads it half-written.
    const tmp = path.posix.join(path.posix.dirname(file), `.upload-${randomBytes(6).toString('hex')}${path.extname(file).toLowerCase()}`);
    const tmpPath = path.join(corpusDir, tmp);
    try {
      writeSynced(tmpPath, bytes, 'wx', 0o644);
      try {
        // The loader ingest uses: what passes here, ingest can read.
        await loadFile(corpusDir, tmp, { maxBytes });
      } catch (err) {
        if (isAppError(err) && err.code === 'E_PARSE') {
          // A file over an extraction limit (unpacked size, characters, memory, time) keeps E_PARSE,
          // whose message names the limit; other unreadable files are invalid uploads.
          if (/ limit\b/.test(err.message) && !/is larger than the/.test(err.message)) {
            throw new AppError('E_PARSE', err.message.replace(/^load: /, 'upload: ').split(tmp).join(file), { kind: 'unreadable' });
          }
          throw invalid(err.message.replace(/^load: /, 'upload: ').split(tmp).join(file), 'unreadable');
        }
        throw err;
      }
      fs.renameSync(tmpPath, path.join(corpusDir, file));
    } finally {
      fs.rmSync(tmpPath, { force: true });
    }
    if (replacing && replacing !== file) fs.rmSync(path.join(corpusDir, replacing), { force: true });
    fsyncPath(path.join(corpusDir, path.posix.dirname(file)), 'r');
    return { file, docId, bytes: bytes.byteLength, sha256: hash, ...(replacing ? { replaced: replacing } : {}) };
  };

  return {
    async list(sources = {}) {
      const files = await corpusFiles();
      const manifestFiles = sources.files ?? {};
      const seen = new Map<string, string>();
      const entries: ReportEntry[] = [];
      for (const file of files) {
        const full = path.join(corpusDir, file);
        let bytes: Buffer;
        let info: fs.Stats;
        try {
          info = fs.statSync(full);
          bytes = fs.readFileSync(full);
        } catch {
          continue; // removed between listing and reading
        }
        const hash = sha256(bytes);
        const docId = docIdOf(file);
        const entry: ReportEntry = {
          file,
          docId,
          status: 'pending',
          bytes: info.size,
          modified: info.mtime.toISOString(),
          sha256: hash,
          sidecar: fs.existsSync(path.join(corpusDir, sidecarOf(file))),
        };
        const original = seen.get(hash);
        const failure = sources.lastFailures?.skipped.find((s) => s.file === file);
        if (original) {
          entry.status = 'duplicate';
          entry.statusDetail = `same content as ${original}, which is indexed instead`;
        } else if (manifestFiles[file]?.hash === indexedHashOf(corpusDir, file, hash)) {
          entry.status = 'indexed';
        } else if (failure && sources.lastFailures && info.mtime.toISOString() <= sources.lastFailures.startedAt) {
          // `<=`: both times are to the millisecond, and a file written in the millisecond the run
          // started was there when its ingest read the corpus, which happens long after the start.
          entry.status = 'failed';
          entry.statusDetail = failure.message.replace(/^load: /, '');
        }
        if (!original) seen.set(hash, file);
        const meta = manifestFiles[file] ? sources.documents?.get(manifestFiles[file].docId) : undefined;
        if (meta) entry.meta = meta;
        entries.push(entry);
      }
      for (const [file, recorded] of Object.entries(manifestFiles)) {
        if (files.includes(file)) continue;
        const meta = sources.documents?.get(recorded.docId);
        entries.push({ file, docId: recorded.docId, status: 'deleted', sidecar: false, ...(meta ? { meta } : {}) });
      }
      return entries.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    },

    add: (input) => exclusive(() => save(input, undefined)),

    replace: (docId, input) =>
      exclusive(async () => {
        const existing = await fileOf(docId);
        if (!existing) throw new AppError('E_DOCUMENT_NOT_FOUND', `admin: no report with id "${docId}"; GET /api/admin/documents lists them`);
        return save(input, existing);
      }),

    remove: (docId) =>
      exclusive(async () => {
        const file = await fileOf(docId);
        if (!file) throw new AppError('E_DOCUMENT_NOT_FOUND', `admin: no report with id "${docId}"; GET /api/admin/documents lists them`);
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const trashDir = path.join(corpusDir, '.trash');
        fs.mkdirSync(trashDir, { recursive: true });
        const trashedAs = path.posix.join('.trash', `${stamp}-${path.posix.basename(file)}`);
        fs.renameSync(path.join(corpusDir, file), path.join(corpusDir, trashedAs));
        const sidecar = sidecarOf(file);
        if (fs.existsSync(path.join(corpusDir, sidecar))) {
          fs.renameSync(path.join(corpusDir, sidecar), path.join(corpusDir, '.trash', `${stamp}-${path.posix.basename(sidecar)}`));
        }
        fsyncPath(path.join(corpusDir, path.posix.dirname(file)), 'r');
        return { file, docId, trashedAs };
      }),
  };
}
