/**
 * The index on disk. Each build is written into its own generation folder beside the live one,
 * every file through a temporary name, fsync and rename, the manifest last; then the one-line
 * CURRENT pointer is replaced by rename. A crash at any point leaves the previous generation live.
 * Reading checks every file against the manifest before using it: loadIndex synchronously (CLIs,
 * tests), openIndex without holding the event loop (a server loading the next generation).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fsyncPath, writeFileDurably } from '../durable-file.js';
import { AppError } from '../errors.js';
import type { DerivedRecord } from '../store/index-store.js';
import type { Chunk, ParsedDocument } from '../domain/types.js';
import type { KeywordIndexData } from './lexical.js';
import { readVectorIndex, readVectorIndexAsync, type VectorIndex } from './vector.js';

/** Bumped whenever the files' layout or meaning changes; older indexes must be rebuilt. */
export const INDEX_FORMAT_VERSION = 9;

export interface FileEntry {
  /** sha256 of the report's bytes, plus its sidecar's when it has one. */
  hash: string;
  docId: string;
  chunks: number;
}

export interface Manifest {
  formatVersion: number;
  /** Name of the generation; changes with every build, so caches can key on it. */
  indexVersion: string;
  createdAt: string;
  embeddingModel: string;
  dimension: number;
  /** Identifies the cleaning/structure/chunking code; a change re-processes every file. */
  pipelineVersion: string;
  documents: number;
  chunks: number;
  files: Record<string, FileEntry>;
  /**
   * sha256 of every other file of the generation, checked before anything is parsed: a damaged
   * file is reported with what to run instead of reaching hnswlib's native reader. Absent in
   * indexes written before it was added (those are checked structurally only).
   */
  checksums?: Record<string, string>;
}

/** Points inside writeIndex where a caller may stop (crash-safety tests kill the process there). */
export interface WriteCheckpoints {
  /** After the first file of the new generation is durable, before the others. */
  writing?: () => void;
  /** After the whole generation is durable, before CURRENT is switched to it. */
  swapping?: () => void;
  /** The write lock was left by a process that is gone (or whose PID now names another): taken over. */
  lockTakenOver?: (stale: StaleLock) => void;
}

/** A write lock taken over, and why: for the caller's log. */
export interface StaleLock {
  holder: { pid?: number; host?: string; at?: string; startTime?: string; bootId?: string };
  reason: string;
}

/** Everything a generation holds, in memory. */
export interface IndexData {
  manifest: Manifest;
  documents: ParsedDocument[];
  chunks: Chunk[];
  /** Row i is the embedding of chunks[i]. */
  embeddings: Float32Array[];
  /** One row per sentence, in chunk order then sentence order (see Chunk.sentences). */
  sentenceEmbeddings: Float32Array[];
  keywords: KeywordIndexData;
  /** Corpus terms added to the tokenizer's dictionary. */
  lexicon: string[];
  /**
   * Everything else computed at ingest so that loading only reads (src/index/derive.ts): records
   * of a kind and a key, the same that IndexSnapshot.getDerived serves. Since format version 5;
   * version 6 adds retrieval's kinds (src/retrieve/derive.ts: sentence tokens and annotations,
   * town facts, document chunks, indicators), which the query side reads instead of the fields above.
   * Version 9 writes them as JSON Lines (derived.jsonl, one record a line): they are the largest
   * part (about 11 KB per chunk), and as one JSON text 5,000 reports passed V8's string limit;
   * and the indicator table a town a record, with a summary (src/retrieve/derive.ts).
   */
  derived: DerivedRecord[];
}

export interface LoadedIndex extends IndexData {
  vectors: VectorIndex;
  /** Row of each chunk's first sentence in sentenceEmbeddings. */
  sentenceRows: number[];
}

/** Where each chunk's sentences start among the sentence rows. */
export function sentenceRowsOf(chunks: readonly Chunk[]): number[] {
  const rows: number[] = [];
  let next = 0;
  for (const chunk of chunks) {
    rows.push(next);
    next += chunk.sentences.length;
  }
  return rows;
}

const CURRENT = 'CURRENT';

const sha256 = (data: string | Uint8Array): string => crypto.createHash('sha256').update(data).digest('hex');

function encodeEmbeddings(rows: readonly Float32Array[], dimension: number): Uint8Array {
  const all = new Float32Array(rows.length * dimension);
  rows.forEach((row, i) => all.set(row, i * dimension));
  return new Uint8Array(all.buffer);
}

function decodeEmbeddings(bytes: Buffer, dimension: number, count: number, name: string): Float32Array[] {
  if (bytes.byteLength !== count * dimension * 4) {
    throw new AppError('E_INDEX_CORRUPT', `index: ${name} has ${bytes.byteLength} bytes, expected ${count * dimension * 4}; run \`npm run ingest -- --full\``);
  }
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  return Array.from({ length: count }, (_, i) => all.subarray(i * dimension, (i + 1) * dimension));
}

/**
 * Records as JSON Lines, encoded a line at a time into one buffer: no single string holds them
 * all (V8 caps a string at ~512 M characters; a Buffer may reach 4 GB). JSON.stringify escapes
 * line breaks inside strings, so a newline byte always ends a record.
 */
function jsonLines(records: readonly unknown[]): Buffer {
  const parts: Buffer[] = [];
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = (): void => {
    parts.push(Buffer.from(pending.join(''), 'utf8'));
    pending = [];
    pendingLength = 0;
  };
  for (const record of records) {
    const line = `${JSON.stringify(record)}\n`;
    pending.push(line);
    pendingLength += line.length;
    if (pendingLength > 8_000_000) flush();
  }
  flush();
  return Buffer.concat(parts);
}

/** The values of a JSON Lines buffer, a line at a time (see jsonLines); throws on a line that is no JSON. */
function parseJsonLines(bytes: Buffer): unknown[] {
  const values: unknown[] = [];
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    if (end > start) values.push(JSON.parse(bytes.toString('utf8', start, end)));
    start = end + 1;
  }
  return values;
}

/** Writes a new generation and makes it live. Returns its name. */
export function writeIndex(indexDir: string, data: IndexData, vectors: VectorIndex, checkpoints: WriteCheckpoints = {}): string {
  fs.mkdirSync(indexDir, { recursive: true });
  const release = acquireWriteLock(indexDir, checkpoints.lockTakenOver);
  try {
    const generation = data.manifest.indexVersion;
    const dir = path.join(indexDir, generation);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    const checksums: Record<string, string> = {};
    const write = (name: string, content: string | Uint8Array): void => {
      writeFileDurably(path.join(dir, name), content);
      checksums[name] = sha256(content);
    };
    write('documents.json', JSON.stringify(data.documents));
    checkpoints.writing?.();
    write('chunks.json', JSON.stringify(data.chunks));
    write('embeddings.f32', encodeEmbeddings(data.embeddings, data.manifest.dimension));
    write('sentence-embeddings.f32', encodeEmbeddings(data.sentenceEmbeddings, data.manifest.dimension));
    write('keywords.json', JSON.stringify(data.keywords));
    write('lexicon.json', JSON.stringify(data.lexicon));
    write('derived.jsonl', jsonLines(data.derived));
    // hnswlib writes straight to its target, so give it a temporary name and make that durable ourselves.
    const graphTmp = path.join(dir, 'vectors.hnsw.tmp');
    vectors.save(graphTmp);
    fsyncPath(graphTmp, 'r+');
    checksums['vectors.hnsw'] = sha256(fs.readFileSync(graphTmp));
    fs.renameSync(graphTmp, path.join(dir, 'vectors.hnsw'));
    writeFileDurably(path.join(dir, 'manifest.json'), JSON.stringify({ ...data.manifest, checksums }, null, 2));
    fsyncPath(dir);
    checkpoints.swapping?.();
    const previous = currentGeneration(indexDir);
    writeFileDurably(path.join(indexDir, CURRENT), `${generation}\n`);
    fsyncPath(indexDir);
    removeStaleGenerations(indexDir, [generation, previous]);
    return generation;
  } finally {
    release();
  }
}

/**
 * Deletes generation folders left behind by earlier builds or crashes. The live one stays, and so
 * does the one it replaced: a server that read CURRENT just before the switch may still be loading it.
 */
function removeStaleGenerations(indexDir: string, keep: Array<string | undefined>): void {
  for (const name of fs.readdirSync(indexDir)) {
    if (name.startsWith('gen-') && !keep.includes(name)) fs.rmSync(path.join(indexDir, name), { recursive: true, force: true });
  }
}

const LOCK = '.write.lock';

/** Linux's boot id: a lock written before a reboot names no running process, whatever its PID. */
function bootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** When a process started, in clock ticks since boot (/proc/<pid>/stat field 22); undefined off Linux. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Wall-clock start of a process, ms since the epoch (boot time + start ticks at 100 Hz). */
function processStartedAt(pid: number): number | undefined {
  const ticks = Number(processStartTime(pid));
  if (!Number.isFinite(ticks)) return undefined;
  try {
    const btime = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1];
    return btime === undefined ? undefined : Number(btime) * 1000 + ticks * 10;
  } catch {
    return undefined;
  }
}

/**
 * Only one process writes generations at a time (a server's reindex and a CLI ingest could
 * overlap): the second would otherwise delete the first's half-written folder as stale. The lock
 * names its holder by host, PID, the process's start time and the boot id, so a lock whose holder
 * is gone is taken over even when its PID has been reused since (a container restarted after a
 * kill -9 runs its server as PID 1 again); the taking over is reported to `onTakeover`.
 */
function acquireWriteLock(indexDir: string, onTakeover?: (stale: StaleLock) => void): () => void {
  const file = path.join(indexDir, LOCK);
  const me = { pid: process.pid, host: os.hostname(), at: new Date().toISOString(), startTime: processStartTime(process.pid), bootId: bootId() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: StaleLock['holder'] = {};
    try {
      holder = JSON.parse(fs.readFileSync(file, 'utf8')) as StaleLock['holder'];
    } catch {
      // Unreadable or half-written by a process killed while taking it: stale.
    }
    const reason = staleReason(holder);
    if (reason === undefined) {
      throw new AppError('E_BUSY', `index: another ingest (pid ${holder.pid}) is writing ${path.basename(indexDir)}/; run again when it has finished`);
    }
    fs.rmSync(file, { force: true });
    onTakeover?.({ holder, reason });
  }
  throw new AppError('E_BUSY', `index: could not take the write lock of ${path.basename(indexDir)}/; run again`);
}

/** Why a lock's holder cannot be writing any more, or undefined when it may be. */
function staleReason(holder: StaleLock['holder']): string | undefined {
  const { pid, host, at, startTime } = holder;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return 'the lock file is unreadable or names no process';
  if (host !== os.hostname()) {
    // Another machine's process cannot be asked; a day-old lock is stale anyway.
    const fresh = typeof at === 'string' && Date.now() - Date.parse(at) < 24 * 3600_000;
    return fresh ? undefined : `it was taken on ${String(host)} more than a day ago`;
  }
  const currentBoot = bootId();
  if (holder.bootId && currentBoot && holder.bootId !== currentBoot) return `pid ${pid} took it before the machine restarted`;
  // Writing is synchronous here: this very process cannot be holding a lock it is asking for.
  if (pid === process.pid && startTime === processStartTime(process.pid)) return `it names this process (pid ${pid}), which holds no lock`;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return `pid ${pid} is gone`;
  }
  const now = processStartTime(pid);
  if (startTime !== undefined && now !== undefined && startTime !== now) return `pid ${pid} now belongs to another process (started at tick ${now}, the holder at ${startTime})`;
  if (pid === process.pid) return `it names this process (pid ${pid}), which holds no lock`;
  // A lock without a start time (older format): a process that started after the lock was taken is not its holder.
  const started = processStartedAt(pid);
  const takenAt = typeof at === 'string' ? Date.parse(at) : Number.NaN;
  if (startTime === undefined && started !== undefined && Number.isFinite(takenAt) && started > takenAt + 2000) {
    return `pid ${pid} started after the lock was taken, so it is another process`;
  }
  return undefined;
}

/** Name of the live generation, or undefined when no index was ever completed. */
export function currentGeneration(indexDir: string): string | undefined {
  try {
    const name = fs.readFileSync(path.join(indexDir, CURRENT), 'utf8').trim();
    return /^gen-[\w-]+$/.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

export interface Expectations {
  embeddingModel: string;
  dimension: number;
}

const unreadable = (name: string, cause?: unknown): AppError =>
  new AppError('E_INDEX_CORRUPT', `index: ${name} is missing or unreadable; run \`npm run ingest\` to rebuild`, { cause });

/** A JSON file's bytes, checked against the manifest's checksum, parsed. */
function parseJson<T>(name: string, file: FileBytes, checksums?: Record<string, string>): T {
  verifyChecksum(name, file, checksums);
  try {
    return JSON.parse(file.bytes.toString('utf8')) as T;
  } catch (cause) {
    throw unreadable(name, cause);
  }
}

function readJson<T>(dir: string, name: string, checksums?: Record<string, string>): T {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path.join(dir, name));
  } catch (cause) {
    throw unreadable(name, cause);
  }
  return parseJson<T>(name, { bytes }, checksums);
}

/** A file of a generation as read: its bytes, and their sha256 when the reader computed it already. */
interface FileBytes {
  bytes: Buffer;
  sha256?: string;
}

/** Throws E_INDEX_CORRUPT when the manifest records a checksum for the file and the bytes differ. */
function verifyChecksum(name: string, file: FileBytes, checksums: Record<string, string> | undefined): void {
  const expected = checksums?.[name];
  if (expected !== undefined && (file.sha256 ?? sha256(file.bytes)) !== expected) {
    throw new AppError('E_INDEX_CORRUPT', `index: ${name} is damaged (its checksum differs from the manifest's); run \`npm run ingest -- --full\``);
  }
}

/** derived.jsonl's records, one { kind, key, value } a line; E_INDEX_CORRUPT otherwise. */
function parseDerivedRecords(file: FileBytes, sums: Record<string, string> | undefined): DerivedRecord[] {
  const name = 'derived.jsonl';
  verifyChecksum(name, file, sums);
  let records: DerivedRecord[];
  try {
    records = parseJsonLines(file.bytes) as DerivedRecord[];
  } catch (cause) {
    throw unreadable(name, cause);
  }
  const ok = records.every((r) => r !== null && typeof r === 'object' && typeof r.kind === 'string' && typeof r.key === 'string' && 'value' in r);
  if (!ok) throw new AppError('E_INDEX_CORRUPT', `index: ${name} does not hold derived records, one a line; run \`npm run ingest -- --full\``);
  return records;
}

/** Reads the manifest of the live generation without loading the rest. */
export function readManifest(indexDir: string): Manifest | undefined {
  const generation = currentGeneration(indexDir);
  if (!generation) return undefined;
  return readJson<Manifest>(path.join(indexDir, generation), 'manifest.json');
}

/**
 * What loading a generation asks of its reader, one step at a time: a file's bytes (with their
 * sha256 when `hash`), or the graph opened by hnswlib from its checked bytes. The steps and every
 * check live once, in {@link loadSteps}; {@link loadIndex} runs them synchronously (CLIs, tests),
 * {@link openIndex} asynchronously, yielding to the event loop between steps (a serving process).
 */
type LoadRequest = { file: string; hash: boolean } | { graph: string; bytes: Buffer; dimension: number; size: number };
type LoadReply = FileBytes | VectorIndex;

/** Optional observer of a load: each step's name and how long it ran on the calling thread. */
export type LoadTrace = (step: string, ms: number) => void;

function* loadSteps(indexDir: string, expect: Expectations): Generator<LoadRequest, LoadedIndex, LoadReply> {
  const generation = currentGeneration(indexDir);
  if (!generation) {
    throw new AppError('E_INDEX_MISSING', `index: no index in ${path.basename(indexDir)}/; run \`npm run ingest\``);
  }
  const dir = path.join(indexDir, generation);
  /** A file's bytes; a missing or unreadable one throws what `missing` makes of the cause. */
  function* read(name: string, missing: (cause: unknown) => AppError = (cause) => unreadable(name, cause), hash = true): Generator<LoadRequest, FileBytes, LoadReply> {
    try {
      return (yield { file: path.join(dir, name), hash }) as FileBytes;
    } catch (cause) {
      throw missing(cause);
    }
  }
  // The manifest holds the others' checksums, not its own.
  const manifest = parseJson<Manifest>('manifest.json', yield* read('manifest.json', undefined, false));
  if (manifest.formatVersion !== INDEX_FORMAT_VERSION) {
    throw new AppError('E_INDEX_MISMATCH', `index: format version ${manifest.formatVersion}, this code reads ${INDEX_FORMAT_VERSION}; run \`npm run ingest -- --full\``);
  }
  if (manifest.embeddingModel !== expect.embeddingModel || manifest.dimension !== expect.dimension) {
    throw new AppError(
      'E_INDEX_MISMATCH',
      `index: built with ${manifest.embeddingModel} (${manifest.dimension}d) but EMBEDDING_MODEL is ${expect.embeddingModel} (${expect.dimension}d); run \`npm run ingest -- --full\``,
    );
  }
  const sums = manifest.checksums;
  const json = function* <T>(name: string): Generator<LoadRequest, T, LoadReply> {
    return parseJson<T>(name, yield* read(name), sums);
  };
  const documents = yield* json<ParsedDocument[]>('documents.json');
  const chunks = yield* json<Chunk[]>('chunks.json');
  if (chunks.length !== manifest.chunks || documents.length !== manifest.documents) {
    throw new AppError('E_INDEX_CORRUPT', 'index: chunk or document count differs from the manifest; run `npm run ingest -- --full`');
  }
  const embeddingsOf = function* (name: string, count: number): Generator<LoadRequest, Float32Array[], LoadReply> {
    const file = yield* read(name, (cause) => new AppError('E_INDEX_CORRUPT', `index: ${name} is missing; run \`npm run ingest -- --full\``, { cause }));
    verifyChecksum(name, file, sums);
    return decodeEmbeddings(file.bytes, manifest.dimension, count, name);
  };
  const embeddings = yield* embeddingsOf('embeddings.f32', chunks.length);
  const sentenceRows = sentenceRowsOf(chunks);
  const sentenceCount = chunks.reduce((n, c) => n + c.sentences.length, 0);
  const sentenceEmbeddings = yield* embeddingsOf('sentence-embeddings.f32', sentenceCount);
  const graph = yield* read('vectors.hnsw', (cause) => new AppError('E_INDEX_CORRUPT', 'index: vectors.hnsw is missing; run `npm run ingest -- --full`', { cause }));
  verifyChecksum('vectors.hnsw', graph, sums);
  let vectors: VectorIndex;
  try {
    vectors = (yield { graph: path.join(dir, 'vectors.hnsw'), bytes: graph.bytes, dimension: manifest.dimension, size: chunks.length }) as VectorIndex;
  } catch (cause) {
    throw new AppError('E_INDEX_CORRUPT', 'index: vectors.hnsw is missing or damaged; run `npm run ingest -- --full`', { cause });
  }
  const keywords = yield* json<KeywordIndexData>('keywords.json');
  const lexicon = yield* json<string[]>('lexicon.json');
  const derived = parseDerivedRecords(yield* read('derived.jsonl'), sums);
  return { manifest, documents, chunks, embeddings, sentenceEmbeddings, sentenceRows, keywords, lexicon, derived, vectors };
}

const stepName = (request: LoadRequest): string => ('file' in request ? `read ${path.basename(request.file)}` : 'open vectors.hnsw');

/**
 * Loads the live generation, checking it was built by this code for this model.
 * Throws E_INDEX_MISSING, E_INDEX_MISMATCH or E_INDEX_CORRUPT with what to run.
 * Synchronous, for CLIs and tests; a serving process uses {@link openIndex}.
 */
export function loadIndex(indexDir: string, expect: Expectations): LoadedIndex {
  const steps = loadSteps(indexDir, expect);
  let step = steps.next();
  while (!step.done) {
    const request = step.value;
    let reply: LoadReply;
    try {
      if ('file' in request) {
        reply = { bytes: fs.readFileSync(request.file) };
      } else {
        reply = readVectorIndex(request.graph, request.dimension, request.size, request.bytes);
      }
    } catch (err) {
      step = steps.throw(err);
      continue;
    }
    step = steps.next(reply);
  }
  return step.value;
}

/** Lets the event loop run what is waiting (requests, timers) before the next step. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * loadIndex for a process that is serving meanwhile: the same steps and checks, but files are
 * read and hashed off the event loop (fs.promises, WebCrypto's digest on the libuv pool), hnswlib
 * reads its graph in its own thread, and the event loop runs between steps, so what runs on it
 * at a time is one JSON.parse or one decode (a few ms each on the shipped corpus; see
 * docs/benchmarks.md). `trace` receives each step's time on this thread.
 */
export async function openIndex(indexDir: string, expect: Expectations, trace?: LoadTrace): Promise<LoadedIndex> {
  const steps = loadSteps(indexDir, expect);
  let reply: LoadReply | undefined;
  let failure: { err: unknown } | undefined;
  let label = 'check CURRENT';
  for (;;) {
    const started = performance.now();
    const step = failure ? steps.throw(failure.err) : steps.next(reply as LoadReply);
    trace?.(label, performance.now() - started);
    if (step.done) return step.value;
    const request = step.value;
    label = `after ${stepName(request)}`;
    failure = undefined;
    await yieldToLoop();
    try {
      if ('file' in request) {
        const bytes = await fs.promises.readFile(request.file);
        reply = { bytes, ...(request.hash ? { sha256: Buffer.from(await crypto.webcrypto.subtle.digest('SHA-256', bytes)).toString('hex') } : {}) };
      } else {
        reply = await readVectorIndexAsync(request.graph, request.dimension, request.size, request.bytes, (ms) => trace?.('check vectors.hnsw', ms));
      }
    } catch (err) {
      failure = { err };
    }
    // Also after the request: an I/O completion can resume the steps before anything else ran.
    await yieldToLoop();
  }
}
