/**
 * The scale part of `npm run bench` (issue 12): for each corpus size (synthetic reports) and each
 * index store, ingest time, index size, the serving replica's RSS and uncached /api/ask p50/p95
 * from one client; then the top-5 agreement of the two stores on the dev set over the shipped
 * corpus. Synthetic texts get vectors derived from the model's vectors of their sentences
 * (derivedVectorEmbedder); the shipped corpus is embedded for real. The PostgreSQL store is the
 * embedded PGlite (db:embedded, its own process, over TCP), filled by importFileIndexDir, the
 * production write path (ingest builds in INDEX_DIR, then imports).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { splitSentences } from '../corpus/chunk.js';
import type { Embedder } from '../embed/embedder.js';
import { parseEvalFile } from '../evaluate/metrics.js';
import { derivedVectorEmbedder, generateSyntheticCorpus, renameTowns, sourceTowns, syntheticTownName } from '../evaluate/synthetic-corpus.js';
import { ingestCorpus } from '../index/build.js';
import { suggestionDeriver } from '../qa/suggestions.js';
import { importFileIndexDir } from '../store/import.js';
import { openRecordedFileStore } from '../store/open.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './embedded-child.js';
import { migrate } from '../store/postgres/migrate.js';
import { createPostgresStore } from '../store/postgres/store.js';
import type { loadConfig } from './runtime.js';

export type StoreName = 'file' | 'postgres';

export interface ScaleServer {
  child: ChildProcess;
  base: string;
  coldStartMs: number;
}

/** What bench.ts already has: its server start and measures (one home each). */
export interface ScaleDeps {
  startServer(env: Record<string, string>): Promise<ScaleServer>;
  stopServer(server: ScaleServer): Promise<void>;
  rssMb(pid: number): number;
  dirSizeMb(dir: string): number;
  percentile(sorted: number[], p: number): number;
  machine(): string;
}

export interface ScaleOptions {
  sizes: number[];
  stores: StoreName[];
  /** Timed /api/ask requests per size and store (after `warmup` untimed ones). */
  requests: number;
  warmup: number;
  /** Sizes from this many reports up import into PostgreSQL with the HNSW indexes built afterwards. */
  pgBulkFrom: number;
  /** Stop a PostgreSQL import after this many seconds (its rate is reported). */
  pgImportTimeoutS: number;
  /** Ingest synthetic corpora with the suggestion checks (suggestionDeriver), as production does. */
  suggestions: boolean;
  /** Measure the two stores' top-5 agreement on the dev set (shipped corpus). */
  agreement: boolean;
  /** Called with the whole section so far after each corpus size (so a later failure keeps the earlier figures). */
  onPartial?: (lines: string[]) => void;
}

/** Bytes of every table of the (fresh, one-generation) database, indexes and TOAST included. */
async function databaseSizeMb(url: string): Promise<{ total: number; parts: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ relname: string; bytes: string }>(
      "SELECT c.relname, pg_total_relation_size(c.oid)::text AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY pg_total_relation_size(c.oid) DESC",
    );
    const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
    const total = rows.reduce((s, r) => s + Number(r.bytes), 0);
    return { total: mb(total), parts: rows.filter((r) => Number(r.bytes) > 2 ** 20).map((r) => `${r.relname} ${mb(Number(r.bytes))}`).join(', ') };
  } finally {
    await client.end();
  }
}

async function sql(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

const HNSW = {
  chunks: 'CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200)',
  sentences: 'CREATE INDEX sentences_embedding ON sentences USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200)',
};

interface AskRun {
  p50: number;
  p95: number;
  errors: number;
  found: number;
}

/** One client, `count` uncached /api/ask requests cycling through `questions`. */
async function askRun(deps: ScaleDeps, base: string, questions: readonly string[], count: number, offset = 0): Promise<AskRun> {
  const times: number[] = [];
  let errors = 0;
  let found = 0;
  for (let i = 0; i < count; i++) {
    const question = questions[(offset + i) % questions.length]!;
    const started = performance.now();
    const res = await fetch(`${base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) });
    const body = (await res.json()) as { found?: boolean };
    times.push(performance.now() - started);
    if (res.status !== 200) errors++;
    else if (body.found) found++;
  }
  times.sort((a, b) => a - b);
  const r1 = (n: number) => Math.round(n * 10) / 10;
  return { p50: r1(deps.percentile(times, 50)), p95: r1(deps.percentile(times, 95)), errors, found };
}

/** The dev questions about the source towns, each asked about one of the first `count` synthetic towns instead. */
function syntheticQuestions(questions: readonly string[], towns: readonly string[], count: number): string[] {
  return questions.map((q, i) => renameTowns(q, towns, syntheticTownName((i * 7) % count)));
}

interface Row {
  reports: number;
  store: StoreName;
  chunks: number;
  sentences: number;
  ingest: string;
  size: string;
  rss: string;
  p50: string;
  p95: string;
  note: string;
}

interface Citations {
  answer: string;
  cited: string[];
  searched: string[];
}

async function askAll(base: string, questions: readonly string[]): Promise<Citations[]> {
  const out: Citations[] = [];
  for (const question of questions) {
    const ask = (await (await fetch(`${base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) })).json()) as {
      answer: string;
      citations: Array<{ chunkId: string }>;
    };
    const search = (await (await fetch(`${base}/api/search?q=${encodeURIComponent(question)}&k=5`)).json()) as { results: Array<{ chunkId: string }> };
    out.push({ answer: ask.answer, cited: ask.citations.slice(0, 5).map((c) => c.chunkId), searched: search.results.slice(0, 5).map((r) => r.chunkId) });
  }
  return out;
}

export async function scaleSection(
  deps: ScaleDeps,
  config: ReturnType<typeof loadConfig>,
  embedder: Embedder,
  options: ScaleOptions,
  note: (line?: string) => void,
): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  const log = (line: string) => process.stderr.write(`bench-scale ${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const devQuestions = parseEvalFile(fs.readFileSync(config.evalFile, 'utf8')).map((i) => i.question);
  const towns = sourceTowns(config.corpusDir);
  const rows: Row[] = [];
  const notes: string[] = [];
  const baseEnv = { MODEL_DIR: config.modelDir, ANSWER_CACHE_SIZE: '0' };
  const started = new Date();
  const render = (agreement: string): string[] => {
    const lines: string[] = [];
    lines.push(
      `Command: \`npm run bench -- --only scale --store ${options.stores.join(',')} --scale ${options.sizes.join(',')} --requests ${options.requests}\` (${started.toISOString().slice(0, 16).replace('T', ' ')} to ${new Date().toISOString().slice(11, 16)} UTC, one run, one machine). Machine: ${deps.machine()}; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min; the 2 cores are shared with other jobs).`,
    );
    lines.push('');
    lines.push(
      'Synthetic reports from src/evaluate/synthetic-corpus.ts (each keeps one shipped report\'s headings, takes paragraphs of the same role from all five, renames every town). **Vectors are derived, not embedded whole** (issue 12 allows it): a sentence that differs from one seen before only in its town gets that sentence\'s model vector; other sentences go through the model; a chunk\'s vector is the normalised sum of its town-and-heading line\'s and its sentences\' vectors (derivedVectorEmbedder). The shipped corpus of the agreement line is embedded for real.',
    );
    lines.push('');
    lines.push(
      `Ingest: the file index built by ingestCorpus (parse, vectors, BM25, hnswlib graph, derived records with the suggestion checks); PostgreSQL adds importFileIndexDir into a fresh embedded PGlite + pgvector (db:embedded, own process, data on disk, over TCP), the production write path. Index size: file = the generation folder; PostgreSQL = pg_total_relation_size of every table (indexes and TOAST included; the database holds this one generation). Replica RSS: the serving process (dist/cli/serve.js, as npm start runs it), after ${options.warmup} warm-up and ${options.requests} timed requests, not the database's. /api/ask: ANSWER_CACHE_SIZE=0, one client, ${options.requests} sequential requests cycling through the ${devQuestions.length} dev questions with their towns renamed to synthetic ones.`,
    );
    lines.push('');
    lines.push('| reports | store | chunks | sentences | ingest | index size | replica RSS | /api/ask p50 | p95 | notes |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) lines.push(`| ${r.reports} | ${r.store} | ${r.chunks} | ${Number.isNaN(r.sentences) ? '' : r.sentences} | ${r.ingest} | ${r.size} | ${r.rss} | ${r.p50} | ${r.p95} | ${r.note} |`);
    lines.push('');
    for (const size of options.sizes) {
      const f = rows.find((r) => r.reports === size && r.store === 'file');
      const p = rows.find((r) => r.reports === size && r.store === 'postgres');
      if (f?.p50 && p?.p50) lines.push(`- ${size} reports: PostgreSQL p50 / file p50 = ${(Number.parseFloat(p.p50) / Number.parseFloat(f.p50)).toFixed(2)}×${size === 500 ? ' (target ≤ 2×)' : ''}.`);
      if (p?.rss && size === 5000) lines.push(`- 5000 reports: PostgreSQL replica RSS ${p.rss} (target < 300 MB).`);
    }
    for (const n of notes) lines.push(`- ${n}`);
    if (agreement) {
      lines.push('');
      lines.push(agreement);
    }
    return lines;
  };
  try {
    // Top-5 agreement on the dev set, shipped corpus, real vectors: first, as it is quick.
    let agreement = '';
    if (options.agreement && options.stores.length === 2) {
      log('agreement: shipped corpus, real embeddings');
      const indexDir = path.join(work, 'index-shipped');
      await ingestCorpus({ corpusDir: config.corpusDir, indexDir, embedder, deriveFromIndex: suggestionDeriver(embedder, { defaultTopK: config.defaultTopK }) });
      const db = await startEmbeddedDatabase(path.join(work, 'pg-shipped'));
      try {
        await migrate(db.url);
        const target = createPostgresStore({ connectionString: db.url, embeddingModel: embedder.id, dimension: embedder.dimension });
        await importFileIndexDir(indexDir, target);
        await target.close();
        const results: Citations[][] = [];
        for (const env of [
          { ...baseEnv, INDEX_DIR: indexDir, CORPUS_DIR: config.corpusDir },
          { ...baseEnv, INDEX_STORE: 'postgres', DATABASE_URL: db.url, INDEX_DIR: path.join(work, 'empty-shipped'), CORPUS_DIR: config.corpusDir },
        ]) {
          const server = await deps.startServer(env);
          try {
            results.push(await askAll(server.base, devQuestions));
          } finally {
            await deps.stopServer(server);
          }
        }
        const [file, postgres] = results as [Citations[], Citations[]];
        const same = (f: (c: Citations) => unknown) => file.filter((c, i) => JSON.stringify(f(c)) === JSON.stringify(f(postgres[i]!))).length;
        agreement = `Top-5 agreement, dev set (${devQuestions.length} questions, shipped corpus, real embeddings, both stores on the same generation): /api/ask citations' chunk ids (top 5, in order) identical for ${same((c) => c.cited)}/${devQuestions.length}; /api/search top-5 chunk ids identical for ${same((c) => c.searched)}/${devQuestions.length}; answer text identical for ${same((c) => c.answer)}/${devQuestions.length}.`;
      } finally {
        await db.stop();
      }
    }

    for (const size of options.sizes) {
      const corpusDir = path.join(work, `corpus-${size}`);
      const indexDir = path.join(work, `index-${size}`);
      generateSyntheticCorpus(config.corpusDir, corpusDir, size);
      const derived = derivedVectorEmbedder(embedder, size, (line) => splitSentences(line).map(([s, e]) => line.slice(s, e)));
      log(`${size} reports: ingest (file index)`);
      const ingest = await ingestCorpus({
        corpusDir,
        indexDir,
        embedder: derived,
        ...(options.suggestions ? { deriveFromIndex: suggestionDeriver(derived, { defaultTopK: config.defaultTopK }) } : {}),
        onProgress: (stage, done, total) => {
          if (done === total || done === 0) log(`${size}: ${stage} ${done}/${total}`);
        },
      });
      const built = openRecordedFileStore(indexDir);
      const sentenceCount = (await built.snapshot()).generation.sentences;
      await built.close();
      notes.push(
        `${size} reports: ${ingest.chunks} chunks; the model embedded ${derived.stats.embedded} distinct sentences (of ${derived.stats.asked} texts asked for, queries of the suggestion checks included); file ingest ${(ingest.totalMs / 1000).toFixed(1)} s.`,
      );
      const questions = syntheticQuestions(devQuestions, towns, size);
      for (const store of options.stores) {
        const row: Row = { reports: size, store, chunks: ingest.chunks, sentences: sentenceCount, ingest: '', size: '', rss: '', p50: '', p95: '', note: '' };
        rows.push(row);
        let env: Record<string, string>;
        let db: EmbeddedDatabase | undefined;
        if (store === 'file') {
          row.ingest = `${(ingest.totalMs / 1000).toFixed(1)} s`;
          row.size = `${deps.dirSizeMb(path.join(indexDir, ingest.indexVersion))} MB`;
          env = { ...baseEnv, INDEX_DIR: indexDir, CORPUS_DIR: corpusDir };
        } else {
          const dataDir = path.join(work, `pg-${size}`);
          db = await startEmbeddedDatabase(dataDir);
          await migrate(db.url);
          const bulk = size >= options.pgBulkFrom;
          if (bulk) await sql(db.url, ['DROP INDEX chunks_embedding', 'DROP INDEX sentences_embedding']);
          const target = createPostgresStore({ connectionString: db.url, embeddingModel: embedder.id, dimension: embedder.dimension });
          log(`${size}: import into PostgreSQL${bulk ? ' (HNSW indexes built afterwards)' : ''}`);
          const importStarted = performance.now();
          let importedChunks = 0;
          let timedOut = false;
          let indexMs = 0;
          try {
            await Promise.race([
              importFileIndexDir(indexDir, target, {
                onProgress: (done, total) => {
                  importedChunks = done;
                  if (done % 5000 < 200 || done === total) log(`${size}: imported ${done}/${total} chunks, ${Math.round(done / ((performance.now() - importStarted) / 1000))} chunks/s, database RSS ${deps.rssMb(db!.pid)} MB`);
                },
              }),
              new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), options.pgImportTimeoutS * 1000).unref()),
            ]);
            if (bulk) {
              const t = performance.now();
              log(`${size}: CREATE INDEX (HNSW) on chunks and sentences`);
              await sql(db.url, ["SET maintenance_work_mem = '1GB'", HNSW.chunks, HNSW.sentences]);
              indexMs = performance.now() - t;
            }
          } catch (error) {
            timedOut = (error as Error).message === 'timeout';
            const seconds = (performance.now() - importStarted) / 1000;
            row.ingest = `not finished: ${importedChunks}/${ingest.chunks} chunks in ${seconds.toFixed(0)} s (${(importedChunks / seconds).toFixed(0)} chunks/s)`;
            row.note = timedOut ? `import stopped after ${options.pgImportTimeoutS} s` : `import failed: ${(error as Error).message.slice(0, 120)}`;
            row.size = `${(await databaseSizeMb(db.url).catch(() => ({ total: NaN }))).total} MB so far`;
            log(`${size}: ${row.note}; database RSS ${deps.rssMb(db.pid)} MB`);
            await target.close().catch(() => {});
            await db.stop();
            continue;
          }
          await target.close();
          const importMs = performance.now() - importStarted;
          row.ingest = `${((ingest.totalMs + importMs) / 1000).toFixed(1)} s (file build ${(ingest.totalMs / 1000).toFixed(1)} + import ${((importMs - indexMs) / 1000).toFixed(1)}${bulk ? ` + CREATE INDEX ${(indexMs / 1000).toFixed(1)}` : ''})`;
          const dbSize = await databaseSizeMb(db.url);
          row.size = `${dbSize.total} MB`;
          if (bulk) row.note = 'HNSW indexes dropped before the import, built after it (maintenance_work_mem 1GB)';
          notes.push(`${size} reports, PostgreSQL tables: ${dbSize.parts}.`);
          env = { ...baseEnv, INDEX_STORE: 'postgres', DATABASE_URL: db.url, INDEX_DIR: path.join(work, `empty-${size}`), CORPUS_DIR: corpusDir };
        }
        log(`${size}: ${store} server`);
        const server = await deps.startServer(env);
        try {
          await askRun(deps, server.base, questions, options.warmup, 1000);
          const run = await askRun(deps, server.base, questions, options.requests);
          row.p50 = `${run.p50} ms`;
          row.p95 = `${run.p95} ms`;
          row.rss = `${deps.rssMb(server.child.pid!)} MB`;
          const extra = [`${run.found}/${options.requests} found`, run.errors ? `${run.errors} errors` : '', db ? `database process RSS ${deps.rssMb(db.pid)} MB` : '', `cold start ${(server.coldStartMs / 1000).toFixed(1)} s`];
          row.note = [row.note, ...extra].filter(Boolean).join('; ');
          log(`${size} ${store}: p50 ${row.p50} p95 ${row.p95} rss ${row.rss}`);
        } finally {
          await deps.stopServer(server);
          await db?.stop();
        }
      }
      options.onPartial?.(render(agreement));
      fs.rmSync(corpusDir, { recursive: true, force: true });
      fs.rmSync(indexDir, { recursive: true, force: true });
      fs.rmSync(path.join(work, `pg-${size}`), { recursive: true, force: true });
    }

    for (const line of render(agreement)) note(line);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
