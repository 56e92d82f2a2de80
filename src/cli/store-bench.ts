/**
 * Entry point of `npm run bench:store`: the index stores side by side on the same generation.
 * The file index (INDEX_DIR) is imported into PostgreSQL (DATABASE_URL, or an embedded PGlite
 * started in a child process, reached over the wire like a database server), then each dev
 * question's searches run against both stores: dense top-40 (within the question's towns, as
 * retrieval does), BM25 top-40, and a retrieval round (both, then the candidates' chunks and
 * their sentences' similarities with the question). Prints p50/p95 per store and operation,
 * and whether the rankings agree.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { analyzeQuery } from '../retrieve/query.js';
import { createFileStore } from '../store/file-store.js';
import { importFileIndexDir } from '../store/import.js';
import { recordedModel } from '../store/open.js';
import type { IndexSnapshot } from '../store/index-store.js';
import { migrate } from '../store/postgres/migrate.js';
import { createPostgresStore } from '../store/postgres/store.js';
import { createTokenizer } from '../text/tokenize.js';
import { startEmbeddedDatabase } from './embedded-child.js';
import { exitWithError, loadConfig, openEmbedder, createLogger } from './runtime.js';

const opts = new Command()
  .name('bench:store')
  .description('search latency of the file and PostgreSQL index stores on the dev questions')
  .option('--rounds <n>', 'passes over the dev questions per store', '5')
  .option('--database-url <url>', 'an existing PostgreSQL with pgvector (default: DATABASE_URL, else an embedded PGlite)')
  .parse()
  .opts<{ rounds: string; databaseUrl?: string }>();

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  const rounds = Number(opts.rounds);
  if (!recordedModel(config.indexDir)) throw new Error(`no index in ${config.indexDir}; run \`npm run ingest\``);
  const embedder = await openEmbedder(config, log);
  const expect = { embeddingModel: embedder.id, dimension: embedder.dimension };
  const file = createFileStore({ indexDir: config.indexDir, ...expect });
  const fileSnapshot = await file.snapshot();
  const towns = [...new Set((await fileSnapshot.listDocuments()).map((d) => d.town).filter(Boolean))];
  const tokenizer = createTokenizer(await fileSnapshot.lexicon());
  const questions: Array<{ vector: Float32Array; tokens: string[]; towns: string[] }> = [];
  for (const line of fs.readFileSync(config.evalFile, 'utf8').split('\n').filter((l) => l.trim())) {
    const { question } = JSON.parse(line) as { question: string };
    questions.push({ vector: await embedder.embedQuery(question), tokens: tokenizer.tokenize(question), towns: analyzeQuery(question, towns, tokenizer.segmenter).towns });
  }

  const external = opts.databaseUrl ?? config.databaseUrl;
  const embedded = external ? undefined : await startEmbeddedDatabase();
  const url = external ?? embedded!.url;
  const postgres = createPostgresStore({ connectionString: url, ...expect });
  try {
    await migrate(url);
    const importStarted = Date.now();
    const imported = await importFileIndexDir(config.indexDir, postgres);
    const importMs = Date.now() - importStarted;

    type Op = 'dense' | 'bm25' | 'round';
    const timings: Record<string, Record<Op, number[]>> = {};
    const rankings: Record<string, string[]> = {};
    const time = async <T>(store: string, op: Op, run: () => Promise<T>): Promise<T> => {
      const started = process.hrtime.bigint();
      const result = await run();
      ((timings[store] ??= { dense: [], bm25: [], round: [] })[op]).push(Number(process.hrtime.bigint() - started) / 1e6);
      return result;
    };
    const pass = async (name: string, snap: IndexSnapshot, record: boolean): Promise<void> => {
      for (const [i, q] of questions.entries()) {
        const filters = q.towns.length ? { towns: q.towns } : {};
        const dense = await time(name, 'dense', () => snap.searchChunks(q.vector, 40, filters));
        const lexical = await time(name, 'bm25', () => snap.searchKeywords(q.tokens, 40, filters));
        await time(name, 'round', async () => {
          const [d, l] = await Promise.all([snap.searchChunks(q.vector, 40, filters), snap.searchKeywords(q.tokens, 40, filters)]);
          const ids = [...new Set([...d, ...l].map((h) => h.chunkId))];
          await Promise.all([snap.getChunks(ids), snap.scoreSentences(q.vector, ids)]);
        });
        if (record) rankings[`${name}:${i}`] = [...dense.slice(0, 5), ...lexical.slice(0, 5)].map((h) => h.chunkId);
      }
    };
    const stores = { file: fileSnapshot, postgres: await postgres.snapshot() };
    for (const [name, snap] of Object.entries(stores)) await pass(name, snap, true); // warm-up, not timed below
    for (const t of Object.values(timings)) for (const op of Object.keys(t) as Op[]) t[op] = [];
    for (let r = 0; r < rounds; r++) for (const [name, snap] of Object.entries(stores)) await pass(name, snap, false);

    const agree = questions.filter((_, i) => JSON.stringify(rankings[`file:${i}`]) === JSON.stringify(rankings[`postgres:${i}`])).length;
    const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
    const rows = Object.entries(timings).map(
      ([name, t]) => `| ${name} | ${fmt(percentile(t.dense, 50))} / ${fmt(percentile(t.dense, 95))} | ${fmt(percentile(t.bm25, 50))} / ${fmt(percentile(t.bm25, 95))} | ${fmt(percentile(t.round, 50))} / ${fmt(percentile(t.round, 95))} |`,
    );
    process.stdout.write(
      [
        `${questions.length} dev questions × ${rounds} rounds per store, after one warm-up pass; ${fileSnapshot.generation.documents} reports, ${fileSnapshot.generation.chunks} chunks, ${fileSnapshot.generation.sentences} sentences; ` +
          `postgres: ${external ? 'DATABASE_URL' : 'embedded PGlite + pgvector in a child process, over TCP'}; import ${imported.imported ? `${importMs} ms` : 'skipped (already published)'}.`,
        '',
        '| store | dense top-40 p50 / p95 (ms) | BM25 top-40 p50 / p95 (ms) | retrieval round p50 / p95 (ms) |',
        '|---|---|---|---|',
        ...rows,
        '',
        `Top-5 dense and BM25 ids identical in both stores for ${agree} of ${questions.length} questions.`,
        '',
      ].join('\n'),
    );
  } finally {
    await file.close();
    await postgres.close();
    await embedded?.stop();
  }
}

main().catch(exitWithError);
