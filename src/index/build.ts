/**
 * Ingestion: corpus files -> load -> clean -> structure -> chunk -> embed -> index generation.
 * Incremental: a file whose bytes (and sidecar) are unchanged reuses its chunks and embeddings
 * from the live index; only new or changed files are embedded. A file that cannot be read stops
 * the run before anything is written, unless skipBad is set.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { annotateSentences } from '../annotate/sentence.js';
import { chunkOptions, splitIntoChunks } from '../corpus/chunk.js';
import { cleanText } from '../corpus/clean.js';
import { listCorpusFiles, loadFile } from '../corpus/load.js';
import { describeDocument, sidecarSchema, type Sidecar } from '../corpus/structure.js';
import type { Embedder } from '../embed/embedder.js';
import { AppError } from '../errors.js';
import { createTokenizer, findCorpusTerms } from '../text/tokenize.js';
import type { Chunk, LoadedFile, ParsedDocument } from '../domain/types.js';
import { buildKeywordIndex } from './lexical.js';
import { textForIndexing } from './passage-text.js';
import { deriveRecords } from './derive.js';
import { snapshotOfLoadedIndex } from '../store/file-store.js';
import type { DerivedRecord, IndexSnapshot } from '../store/index-store.js';
import { INDEX_FORMAT_VERSION, loadIndex, sentenceRowsOf, writeIndex, type FileEntry, type IndexData, type LoadedIndex, type Manifest, type StaleLock } from './store.js';
import { buildVectorIndex } from './vector.js';

/** Names the behaviour of the corpus stages; change it when cleaning, structure or chunking change. */
export const PIPELINE_VERSION = `p1-${chunkOptions.maxChars}-${chunkOptions.minChars}`;

export type IngestStage = 'load' | 'parse' | 'embed' | 'write';

/** See IngestOptions.onCheckpoint. */
export type IngestCheckpoint = 'embed' | 'write' | 'swap';

export interface IngestOptions {
  corpusDir: string;
  indexDir: string;
  embedder: Embedder;
  /** Skip files that cannot be read (and say so) instead of failing the run. */
  skipBad?: boolean;
  /** Re-process every file even when unchanged. */
  full?: boolean;
  onProgress?: (stage: IngestStage, done: number, total: number) => void;
  /**
   * Called at points where a crash must leave the previous index serving: `embed` after the first
   * batch is embedded, `write` after the first file of the new generation is written, `swap` when
   * the generation is complete and CURRENT is about to point at it. Synchronous: crash-safety
   * tests block here and kill the process (see INGEST_PAUSE_AT in src/cli/ingest.ts).
   */
  onCheckpoint?: (point: IngestCheckpoint) => void;
  /**
   * Derivers that need the query side over the new generation (the answer pipeline cannot be
   * imported from here: src/qa/suggestions.ts suggestionDeriver), given the whole in-memory
   * index, its derived records so far included, before it is written. Supplied by the entry
   * points (src/cli/runtime.ts, ingest-child.ts). Default: none.
   */
  deriveFromIndex?: (snapshot: IndexSnapshot) => Promise<DerivedRecord[]>;
}

export interface IngestSummary {
  files: number;
  documents: number;
  chunks: number;
  /** Files whose chunks and embeddings were reused from the live index. */
  reused: string[];
  /** Files (re-)processed and embedded in this run. */
  embedded: string[];
  /** Files in the previous index that are gone from the corpus. */
  removed: string[];
  /** Files that could not be read, with why (only with skipBad). */
  skipped: Array<{ file: string; message: string }>;
  /** Files whose content duplicates an earlier file, which is indexed instead. */
  duplicates: Array<{ file: string; sameAs: string }>;
  /** Spam runs cut out of the text, per file. */
  spamRemoved: Record<string, number>;
  chunksEmbedded: number;
  /** Chunks plus their sentences: the texts that went through the model. */
  textsEmbedded: number;
  embedMs: number;
  totalMs: number;
  indexVersion: string;
  /** The write lock a dead (or PID-reused) holder left, taken over by this run: worth a log line. */
  staleLock?: StaleLock;
}

function readSidecar(corpusDir: string, file: string): { sidecar: Sidecar; hash: string } {
  const sidecarPath = path.join(corpusDir, file.replace(/\.[^./]+$/, '') + '.meta.json');
  if (!fs.existsSync(sidecarPath)) return { sidecar: {}, hash: '' };
  const raw = fs.readFileSync(sidecarPath, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new AppError('E_PARSE', `ingest: ${path.basename(sidecarPath)} is not valid JSON`, { cause });
  }
  const parsed = sidecarSchema.safeParse(json);
  if (!parsed.success) {
    throw new AppError('E_PARSE', `ingest: ${path.basename(sidecarPath)}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'field'} ${i.message}`).join('; ')}`);
  }
  return { sidecar: parsed.data, hash: crypto.createHash('sha256').update(raw).digest('hex') };
}

function previousIndex(options: IngestOptions): LoadedIndex | undefined {
  if (options.full) return undefined;
  try {
    const index = loadIndex(options.indexDir, { embeddingModel: options.embedder.id, dimension: options.embedder.dimension });
    return index.manifest.pipelineVersion === PIPELINE_VERSION ? index : undefined;
  } catch {
    // No usable previous index: everything is embedded afresh.
    return undefined;
  }
}

/** Every text the live index embedded (chunks with their context, and sentences), with its vector. */
function knownEmbeddings(previous: LoadedIndex, textOf: Map<string, string>): Map<string, Float32Array> {
  const known = new Map<string, Float32Array>();
  const previousText = new Map(previous.documents.map((d) => [d.meta.docId, d.text]));
  previous.chunks.forEach((chunk, row) => {
    known.set(textForIndexing(chunk), previous.embeddings[row]!);
    const text = previousText.get(chunk.docId) ?? textOf.get(chunk.docId);
    if (!text) return;
    chunk.sentences.forEach(([s, e], k) => known.set(text.slice(s, e), previous.sentenceEmbeddings[previous.sentenceRows[row]! + k]!));
  });
  return known;
}

function newGenerationName(): string {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '').replace('T', 't').slice(0, 16);
  return `gen-${stamp}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Builds (or updates) the index from the corpus and makes it live. */
export async function ingestCorpus(options: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const progress = options.onProgress ?? (() => {});
  const files = await listCorpusFiles(options.corpusDir);

  // 1. Read every file first: a bad file must stop the run before anything is written.
  const loaded: Array<{ file: LoadedFile; sidecar: Sidecar; hash: string }> = [];
  const failures: Array<{ file: string; message: string }> = [];
  for (const [i, file] of files.entries()) {
    try {
      const content = await loadFile(options.corpusDir, file);
      const { sidecar, hash: sidecarHash } = readSidecar(options.corpusDir, file);
      const hash = sidecarHash ? crypto.createHash('sha256').update(content.hash + sidecarHash).digest('hex') : content.hash;
      loaded.push({ file: content, sidecar, hash });
    } catch (error) {
      failures.push({ file, message: error instanceof Error ? error.message : String(error) });
    }
    progress('load', i + 1, files.length);
  }
  if (failures.length > 0 && !options.skipBad) {
    throw new AppError(
      'E_PARSE',
      `ingest: ${failures.length} file(s) could not be read; the previous index is unchanged. ` +
        `Fix or remove them, or run with --skip-bad:\n${failures.map((f) => `  ${f.file}: ${f.message}`).join('\n')}`,
    );
  }

  // 2. Reuse what the live index already holds for unchanged files; parse the rest.
  const previous = previousIndex(options);
  const byHash = new Map<string, string>();
  const duplicates: IngestSummary['duplicates'] = [];
  const documents: ParsedDocument[] = [];
  const chunks: Chunk[] = [];
  const embeddings: Array<Float32Array | undefined> = [];
  /** Per chunk row: its sentences' embeddings when reused, undefined when they must be computed. */
  const sentenceVectors: Array<Float32Array[] | undefined> = [];
  const reused: string[] = [];
  const embedded: string[] = [];
  const spamRemoved: Record<string, number> = {};
  const files_: Record<string, FileEntry> = {};
  for (const [i, { file, sidecar, hash }] of loaded.entries()) {
    progress('parse', i + 1, loaded.length);
    const sameAs = byHash.get(file.hash);
    if (sameAs) {
      duplicates.push({ file: file.file, sameAs });
      continue;
    }
    byHash.set(file.hash, file.file);
    const old = previous?.manifest.files[file.file];
    if (previous && old && old.hash === hash) {
      const doc = previous.documents.find((d) => d.meta.docId === old.docId);
      if (doc) {
        documents.push(doc);
        previous.chunks.forEach((chunk, row) => {
          if (chunk.docId !== doc.meta.docId) return;
          const first = previous.sentenceRows[row]!;
          chunks.push(chunk);
          embeddings.push(previous.embeddings[row]);
          sentenceVectors.push(previous.sentenceEmbeddings.slice(first, first + chunk.sentences.length));
        });
        reused.push(file.file);
        files_[file.file] = old;
        continue;
      }
    }
    const cleaned = cleanText(file.text);
    const doc = describeDocument(file, cleaned, sidecar);
    const docChunks = splitIntoChunks(doc);
    spamRemoved[file.file] = cleaned.removed.filter((r) => r.reason === 'spam').length;
    documents.push(doc);
    for (const chunk of docChunks) {
      chunks.push(chunk);
      embeddings.push(undefined);
      sentenceVectors.push(undefined);
    }
    embedded.push(file.file);
    files_[file.file] = { hash, docId: doc.meta.docId, chunks: docChunks.length };
  }

  // 3. Embed what is new, in batches: each chunk, and each of its sentences (answers quote
  // sentences, so scoring them by meaning is done here once rather than at every question).
  const pending = embeddings.flatMap((e, row) => (e ? [] : [row]));
  const textOf = new Map(documents.map((d) => [d.meta.docId, d.text]));
  const jobs: Array<{ text: string; store: (v: Float32Array) => void }> = [];
  for (const row of pending) {
    const chunk = chunks[row]!;
    jobs.push({ text: textForIndexing(chunk), store: (v) => (embeddings[row] = v) });
    const own: Float32Array[] = [];
    sentenceVectors[row] = own;
    chunk.sentences.forEach(([s, e], k) => {
      jobs.push({ text: textOf.get(chunk.docId)!.slice(s, e), store: (v) => (own[k] = v) });
    });
  }
  // Embeddings are content-addressed: a text the live index already embedded (an unchanged
  // paragraph of an edited report) or one that occurs twice in this run is embedded once.
  const known = previous ? knownEmbeddings(previous, textOf) : new Map<string, Float32Array>();
  const byText = new Map<string, Array<(v: Float32Array) => void>>();
  for (const job of jobs) {
    const vector = known.get(job.text);
    if (vector) job.store(vector);
    else {
      const stores = byText.get(job.text);
      if (stores) stores.push(job.store);
      else byText.set(job.text, [job.store]);
    }
  }
  // Similar lengths batch together, so little of each forward pass is spent on padding.
  const unique = [...byText.keys()].sort((a, b) => a.length - b.length);
  const embedStarted = Date.now();
  const batch = 64;
  for (let i = 0; i < unique.length; i += batch) {
    const slice = unique.slice(i, i + batch);
    const vectors = await options.embedder.embedDocuments(slice);
    slice.forEach((text, j) => byText.get(text)!.forEach((store) => store(vectors[j]!)));
    progress('embed', Math.min(i + batch, unique.length), unique.length);
    if (i === 0) options.onCheckpoint?.('embed');
  }
  const embedMs = Date.now() - embedStarted;

  // 4. Keyword index with the corpus' own terms in the dictionary, vector graph, then write.
  progress('write', 0, 1);
  const lexicon = findCorpusTerms(
    documents.map((d) => d.text),
    documents.flatMap((d) => [d.meta.town, d.meta.district]),
  );
  const tokenizer = createTokenizer(lexicon);
  const keywords = buildKeywordIndex(chunks.map((c) => tokenizer.tokenize(textForIndexing(c))));
  const finalEmbeddings = embeddings.map((e) => e!);
  const vectors = buildVectorIndex(finalEmbeddings, options.embedder.dimension);
  const manifest: Manifest = {
    formatVersion: INDEX_FORMAT_VERSION,
    indexVersion: newGenerationName(),
    createdAt: new Date().toISOString(),
    embeddingModel: options.embedder.id,
    dimension: options.embedder.dimension,
    pipelineVersion: PIPELINE_VERSION,
    documents: documents.length,
    chunks: chunks.length,
    files: files_,
  };
  const sentenceEmbeddings = sentenceVectors.flatMap((v) => v!);
  // Annotated for every build, reused files too: a change of the rules needs no re-embedding.
  const sentenceAnnotations = annotateSentences(documents, chunks);
  const rows = sentenceRowsOf(chunks);
  const perChunk = <T>(all: readonly T[]) => chunks.map((c, i) => all.slice(rows[i]!, rows[i]! + c.sentences.length));
  const derived = await deriveRecords({
    documents,
    chunks,
    sentenceVectors: perChunk(sentenceEmbeddings),
    sentenceAnnotations: perChunk(sentenceAnnotations),
    tokenizer,
    lexicon,
    keywords,
    embedder: options.embedder,
  });
  const data: IndexData = { manifest, documents, chunks, embeddings: finalEmbeddings, sentenceEmbeddings, keywords, lexicon, derived };
  if (options.deriveFromIndex) {
    const more = await options.deriveFromIndex(snapshotOfLoadedIndex({ ...data, derived: [...derived], vectors, sentenceRows: rows }));
    const taken = new Set(derived.map((r) => r.kind));
    const clash = more.find((r) => taken.has(r.kind));
    if (clash) throw new Error(`derive: kind ${clash.kind} produced by two derivers`);
    derived.push(...more);
  }
  let staleLock: StaleLock | undefined;
  writeIndex(options.indexDir, data, vectors, {
    writing: () => options.onCheckpoint?.('write'),
    swapping: () => options.onCheckpoint?.('swap'),
    lockTakenOver: (stale) => (staleLock = stale),
  });
  progress('write', 1, 1);

  const removed = previous ? Object.keys(previous.manifest.files).filter((f) => !(f in files_)) : [];
  return {
    files: files.length,
    documents: documents.length,
    chunks: chunks.length,
    reused,
    embedded,
    removed,
    skipped: failures,
    duplicates,
    spamRemoved,
    chunksEmbedded: pending.length,
    textsEmbedded: unique.length,
    embedMs,
    totalMs: Date.now() - started,
    indexVersion: manifest.indexVersion,
    ...(staleLock ? { staleLock } : {}),
  };
}

