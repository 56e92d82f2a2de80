/**
 * Entry point of `npm run bench`: measures model load, embedding throughput against a plain
 * onnxruntime loop, ingest, cold start, /api/ask and /api/search latency under 1, 8 and 32
 * concurrent clients (autocannon against the real server on loopback), memory, the first
 * /api/suggestions and /api/commitments after a start, and the scale table: both index stores at
 * 5, 500 and 5,000 synthetic reports (src/cli/bench-scale.ts). Writes the figures to
 * docs/benchmarks.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon, { type Request as LoadRequest } from 'autocannon';
import http from 'node:http';
import { Command } from 'commander';
import ort from 'onnxruntime-node';
import { createEmbedder, lowerAscii, MAX_MODEL_TOKENS, type Embedder } from '../embed/embedder.js';
import { loadWordPiece } from '../embed/wordpiece.js';
import type { Worker } from 'node:worker_threads';
import { createEmbedderPool, startWorker } from '../embed/pool.js';
import { startCommand } from './start-entry.js';
import { allChunkIds, openIndexContext } from '../retrieve/context.js';
import { openRecordedFileStore } from '../store/open.js';
import { modelPathOf, ONNX_MODEL_FILE } from '../embed/model-files.js';
import { parseEvalFile } from '../evaluate/metrics.js';
import { replaceSection } from '../evaluate/report.js';
import { ingestCorpus, type IngestSummary } from '../index/build.js';
import { ensureModel } from '../embed/model-fetch.js';
import { suggestionDeriver } from '../qa/suggestions.js';
import { exitWithError, loadConfig } from './runtime.js';
import { scaleSection, type StoreName } from './bench-scale.js';

const program = new Command()
  .name('bench')
  .option('--duration <s>', 'seconds per load-test run', (v) => Number.parseInt(v, 10), 10)
  .option('--scale <list>', 'synthetic report counts of the scale table, comma-separated (0 skips it)', '5,500,5000')
  .option('--store <list>', 'index stores of the scale table: file, postgres or both', 'file,postgres')
  .option('--requests <n>', 'timed uncached /api/ask requests per size and store in the scale table', (v) => Number.parseInt(v, 10), 200)
  .option('--pg-bulk-from <n>', 'scale table: from this many reports, PostgreSQL imports with its HNSW indexes built afterwards', (v) => Number.parseInt(v, 10), 1_000_000)
  .option('--no-suggestions', 'scale table: ingest the synthetic corpora without the suggestion checks (each town asks its candidate questions over the whole new index)')
  .option('--no-agreement', 'scale table: skip the top-5 agreement of the two stores on the dev set')
  .option('--pg-import-timeout <s>', 'scale table: give up a PostgreSQL import after this many seconds', (v) => Number.parseInt(v, 10), 3600)
  .option('--no-write', 'print only; do not update docs/benchmarks.md')
  .option('--only <part>', 'run one part: scale (the per-store scale table), concurrency (pool, 1 vs 8 clients, client vs server time), first-requests (first /api/suggestions and /api/commitments after a start)')
  .option('--starts <n>', 'server starts timed by the first-requests part', (v) => Number.parseInt(v, 10), 5)
  .parse();
const opts = program.opts<{
  duration: number;
  scale: string;
  store: string;
  requests: number;
  pgBulkFrom: number;
  pgImportTimeout: number;
  agreement: boolean;
  suggestions: boolean;
  write: boolean;
  only?: string;
  starts: number;
}>();
const scaleSizes = opts.scale.split(',').map((v) => Number.parseInt(v, 10)).filter((n) => n > 0);
const scaleStores = opts.store.split(',').map((v) => v.trim()) as StoreName[];
if (scaleStores.some((s) => s !== 'file' && s !== 'postgres')) {
  process.stderr.write('bench: --store takes file, postgres or file,postgres\n');
  process.exit(2);
}

const out = (line = '') => process.stdout.write(`${line}\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

function dirSizeMb(dir: string): number {
  let bytes = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}

/** Texts per second of a plain onnxruntime loop (tokenize, run, read CLS), the bound to compare with. */
async function plainOrtThroughput(modelDir: string, modelId: string, texts: string[]): Promise<number> {
  // The server's tokenization (wordpiece.ts, ASCII lower-cased), so the bound measures the same work.
  const tokenizer = loadWordPiece(modelPathOf(modelDir, modelId));
  const session = await ort.InferenceSession.create(path.join(modelPathOf(modelDir, modelId), ONNX_MODEL_FILE));
  const started = performance.now();
  for (const text of texts) {
    const encoded: Record<string, { data: BigInt64Array; dims: number[] }> = { ...tokenizer.encode([lowerAscii(text)], MAX_MODEL_TOKENS) };
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) feeds[name] = new ort.Tensor('int64', encoded[name]!.data, encoded[name]!.dims);
    const result = await session.run(feeds);
    void result['last_hidden_state'];
  }
  return texts.length / ((performance.now() - started) / 1000);
}

async function embedderThroughput(embedder: Embedder, texts: string[]): Promise<number> {
  const started = performance.now();
  await embedder.embedDocuments(texts);
  return texts.length / ((performance.now() - started) / 1000);
}

interface Server {
  child: ChildProcess;
  base: string;
  /** Milliseconds from spawn to the first answered /api/ask. */
  coldStartMs: number;
}

let built = false;
/**
 * What `npm start` runs: the build (dist/, compiled once per bench run, before any timing), not
 * the sources through tsx, whose loader alone costs a serving process tens of MB.
 */
function serverArgs(): string[] {
  if (!built) execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  built = true;
  const { nodeFlags, entry } = startCommand();
  return [...nodeFlags, entry];
}

/** Starts `npm start`'s entry point as a child process and waits for its first answer. */
async function startServer(env: Record<string, string>): Promise<Server> {
  const args = serverArgs();
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    // The per-client rate limit is off: these runs measure capacity, all from one address.
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      // Readiness first: an ask before the index has loaded is answered 503 and logged as a warning.
      const ready = await fetch(`${base}/api/health/ready`);
      await ready.arrayBuffer();
      const res = ready.status === 200 ? await fetch(`${base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '梅李镇有多少个三级网格?' }) }) : undefined;
      if (res?.status === 200) {
        await res.json();
        return { child, base, coldStartMs: Math.round(performance.now() - started) };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.child.once('exit', () => resolve());
    server.child.kill('SIGTERM');
  });
}

interface LoadFigures {
  connections: number;
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

/** One autocannon run: cycles through the given requests; latencies collected per response. */
function load(base: string, requests: LoadRequest[], connections: number, duration: number): Promise<LoadFigures> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let errors = 0;
    const instance = autocannon({ url: base, connections, duration, requests, timeout: 10 }, (err, result) => {
      if (err) {
        reject(err);
        return;
      }
      latencies.sort((a, b) => a - b);
      resolve({
        connections,
        requests: latencies.length,
        rps: Math.round(latencies.length / result.duration),
        p50: Math.round(percentile(latencies, 50) * 10) / 10,
        p95: Math.round(percentile(latencies, 95) * 10) / 10,
        p99: Math.round(percentile(latencies, 99) * 10) / 10,
        errors: errors + result.errors + result.timeouts,
      });
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      if (statusCode >= 400) errors++;
    });
  });
}

function askRequests(questions: string[]): LoadRequest[] {
  return questions.map((question) => ({
    method: 'POST',
    path: '/api/ask',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ question }),
  }));
}

function searchRequests(questions: string[]): LoadRequest[] {
  return questions.map((q) => ({ method: 'GET', path: `/api/search?q=${encodeURIComponent(q)}&k=10` }));
}

const loadRow = (label: string, f: LoadFigures) =>
  `| ${label} | ${f.connections} | ${f.requests} | ${f.rps} | ${f.p50} | ${f.p95} | ${f.p99} | ${f.errors} |`;
const LOAD_HEADER = ['| endpoint | clients | requests | req/s | p50 ms | p95 ms | p99 ms | errors |', '|---|---|---|---|---|---|---|---|'];

// ---------------------------------------------------------------------------------------------
// Concurrency (issue 13): uncached answers from 1 and 8 clients on unique questions, against the
// ceiling of raw onnxruntime sessions embedding the same questions, and the time a client sees
// against the server's own tookMs.

const PREFIXES = ['', '请问', '请问一下，', '想了解', '我想知道', '麻烦问一下', '你好，', '咨询一下'];
const SUFFIXES = ['', '？', '呢', '吗'];
const ROUNDS = ['', '那么', '另外', '还有', '再问', '顺便', '对了', '此外', '同时', '以及'];

/** The i-th of an endless run of distinct questions built from the eval questions. */
function uniqueQuestion(base: readonly string[], i: number): string {
  const q = base[i % base.length]!.replace(/[?？]$/, '');
  const v = Math.floor(i / base.length);
  const variant = `${PREFIXES[v % PREFIXES.length]}${q}${SUFFIXES[Math.floor(v / PREFIXES.length) % SUFFIXES.length]}`;
  // Beyond the first 32 variants, a lead-in of about the same length keeps them distinct without
  // making later questions longer (and dearer) than earlier ones.
  const round = Math.floor(v / (PREFIXES.length * SUFFIXES.length));
  return `${ROUNDS[round % ROUNDS.length]}${variant}`;
}

interface ClientRun {
  clients: number;
  answers: number;
  perSecond: number;
  p50: number;
  p95: number;
  /** Server-reported tookMs, p50 (only meaningful for one client). */
  tookP50: number;
  /** p50 of (client time − tookMs) per request. */
  gapP50: number;
  errors: number;
  /** CPU milliseconds per answer: the server's event-loop thread, its other threads, this client. */
  cpu?: { serving: number; otherThreads: number; client: number };
}

/**
 * CPU milliseconds a process has used, its first thread's apart, from /proc (Linux only; undefined
 * elsewhere). utime + stime are in clock ticks of 10 ms (USER_HZ is 100 on Linux).
 */
function processCpuMs(pid: number): { serving: number; all: number } | undefined {
  const ms = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  try {
    return { serving: ms(fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')), all: ms(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) };
  } catch {
    return undefined;
  }
}

/** `clients` keep-alive connections asking distinct questions for `seconds`; the cache is off on the server. */
async function askLoop(server: Server, questions: readonly string[], clients: number, seconds: number, offset: number): Promise<ClientRun> {
  const { base } = server;
  const url = new URL(base);
  let next = offset;
  let errors = 0;
  const times: number[] = [];
  const took: number[] = [];
  const gaps: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const serverCpu = server.child.pid === undefined ? undefined : processCpuMs(server.child.pid);
  const clientCpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (performance.now() < deadline) {
        const body = JSON.stringify({ question: uniqueQuestion(questions, next++) });
        const t = performance.now();
        const reply = await new Promise<{ status: number; text: string }>((resolve) => {
          const req = http.request({ host: url.hostname, port: url.port, path: '/api/ask', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          });
          req.on('error', () => resolve({ status: 0, text: '' }));
          req.end(body);
        });
        const ms = performance.now() - t;
        if (reply.status !== 200) {
          errors++;
          continue;
        }
        const tookMs = (JSON.parse(reply.text) as { tookMs: number }).tookMs;
        times.push(ms);
        took.push(tookMs);
        gaps.push(ms - tookMs);
      }
      agent.destroy();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(clientCpu);
  const serverCpuAfter = server.child.pid === undefined ? undefined : processCpuMs(server.child.pid);
  const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
  const r1 = (n: number) => Math.round(n * 10) / 10;
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const answered = Math.max(1, times.length);
  const cpu =
    serverCpu && serverCpuAfter
      ? {
          serving: r2((serverCpuAfter.serving - serverCpu.serving) / answered),
          otherThreads: r2((serverCpuAfter.all - serverCpuAfter.serving - (serverCpu.all - serverCpu.serving)) / answered),
          client: r2((user + system) / 1000 / answered),
        }
      : undefined;
  return {
    clients,
    answers: times.length,
    perSecond: r1(times.length / elapsed),
    p50: r1(percentile(sorted(times), 50)),
    p95: r1(percentile(sorted(times), 95)),
    tookP50: r1(percentile(sorted(took), 50)),
    gapP50: r1(percentile(sorted(gaps), 50)),
    errors,
    ...(cpu ? { cpu } : {}),
  };
}

/**
 * `threads` raw onnxruntime sessions (one intra-op thread each), each in a worker thread, started
 * one after the other as the pool starts its workers (two loading onnxruntime at once can crash
 * the process). They are never terminated, for the same reason as the pool's: unref'd, they let
 * the process exit.
 */
async function ortSessions(modelDir: string, modelId: string, threads: number): Promise<Worker[]> {
  const workers: Worker[] = [];
  for (let i = 0; i < threads; i++) {
    const worker = startWorker(new URL('./bench-ort-worker.ts', import.meta.url), { modelDir, modelId });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    worker.unref();
    workers.push(worker);
  }
  return workers;
}

/** Texts per second of the raw sessions `workers` embedding `texts` for `seconds`. */
async function ortCeiling(workers: readonly Worker[], texts: readonly string[], seconds: number): Promise<number> {
  // Busy workers keep the process alive until their answers are in (as the pool's do).
  for (const w of workers) w.ref();
  // First runs allocate the session's buffers: not part of the rate.
  await Promise.all(workers.map((w) => new Promise((resolve) => {
    w.once('message', resolve);
    w.postMessage(texts.slice(0, 8));
  })));
  let done = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    workers.map(async (worker) => {
      while (performance.now() < deadline) {
        const batch = Array.from({ length: 4 }, () => texts[next++ % texts.length]!);
        // Not `done += await …`: that reads `done` before the await, so the sessions running
        // side by side would overwrite each other's counts.
        const n = await new Promise<number>((resolve) => {
          worker.once('message', (count: number) => resolve(count));
          worker.postMessage(batch);
        });
        done += n;
      }
    }),
  );
  const rate = done / ((performance.now() - started) / 1000);
  for (const w of workers) w.unref();
  return Math.round(rate * 10) / 10;
}

async function concurrencySection(indexDir: string, env: Record<string, string>, questions: readonly string[], note: (line?: string) => void): Promise<void> {
  const config = loadConfig();
  const cores = os.availableParallelism();
  const seconds = opts.duration;
  const server = await startServer({ ...env, INDEX_DIR: indexDir, ANSWER_CACHE_SIZE: '0' });
  // Warm-up: JIT, worker sessions, page cache.
  await askLoop(server, questions, 2, 2, 20_000);
  const one = await askLoop(server, questions, 1, seconds, 0);
  const eight = await askLoop(server, questions, 8, seconds, 5_000);
  await stopServer(server);
  // A worker per core, against the default of one per core but one (config.ts defaultEmbedWorkers).
  const workers = config.embedWorkers;
  let eightPerCore: Awaited<ReturnType<typeof askLoop>> | undefined;
  if (workers !== cores) {
    const perCore = await startServer({ ...env, INDEX_DIR: indexDir, ANSWER_CACHE_SIZE: '0', EMBED_WORKERS: String(cores) });
    await askLoop(perCore, questions, 2, 2, 20_000);
    eightPerCore = await askLoop(perCore, questions, 8, seconds, 5_000);
    await stopServer(perCore);
  }
  // The same 8 clients with inference on the event loop's thread, as before the pool.
  const inThread = await startServer({ ...env, INDEX_DIR: indexDir, ANSWER_CACHE_SIZE: '0', EMBED_WORKERS: '0' });
  await askLoop(inThread, questions, 2, 2, 20_000);
  const eightInThread = await askLoop(inThread, questions, 8, seconds, 5_000);
  await stopServer(inThread);
  const texts = Array.from({ length: 400 }, (_, i) => uniqueQuestion(questions, i));
  const sessions = await ortSessions(config.modelDir, config.embeddingModel, cores);
  const ceiling = await ortCeiling(sessions, texts, seconds);
  const single = await ortCeiling(sessions.slice(0, 1), texts, seconds);
  // Vectors from the pool against the in-thread embedder's, on the questions and the index's chunks.
  const inThreadEmbedder = await createEmbedder({ modelDir: config.modelDir, modelId: config.embeddingModel, batchSize: config.embedBatchSize, queryInstruction: config.queryInstruction });
  const pool = await createEmbedderPool({ modelDir: config.modelDir, modelId: config.embeddingModel, batchSize: config.embedBatchSize, queryInstruction: config.queryInstruction, size: cores });
  const snapshot = await openRecordedFileStore(indexDir).snapshot();
  const chunkTexts = (await snapshot.getChunks(await allChunkIds(await openIndexContext(snapshot)))).flatMap((c) => (c ? [c.text] : []));
  const cosine = (x: Float32Array, y: Float32Array) => {
    let dot = 0;
    let nx = 0;
    let ny = 0;
    for (let i = 0; i < x.length; i++) {
      dot += x[i]! * y[i]!;
      nx += x[i]! ** 2;
      ny += y[i]! ** 2;
    }
    return dot / Math.sqrt(nx * ny);
  };
  const pooledQueries = await Promise.all(questions.map((q) => pool.embedQuery(q)));
  let worstQuery = 0;
  for (const [i, q] of questions.entries()) worstQuery = Math.max(worstQuery, 1 - cosine(await inThreadEmbedder.embedQuery(q), pooledQueries[i]!));
  const pooledChunks = await pool.embedDocuments(chunkTexts);
  const ownChunks = await inThreadEmbedder.embedDocuments(chunkTexts);
  let worstChunk = 0;
  for (let i = 0; i < chunkTexts.length; i++) worstChunk = Math.max(worstChunk, 1 - cosine(pooledChunks[i]!, ownChunks[i]!));
  await pool.close();
  const load = os.loadavg()[0]!;
  note(`Uncached answers (ANSWER_CACHE_SIZE=0) to distinct questions (the ${questions.length} eval questions, each varied by a prefix and suffix so no two requests are the same), keep-alive HTTP clients on 127.0.0.1, ${seconds} s per row; server as \`npm start\` runs it with EMBED_WORKERS at its default (${workers}, one per core but one, on ${cores} cores) and LOG_LEVEL=warn. The ceiling: ${cores} raw onnxruntime sessions (one intra-op thread each, in worker threads) tokenizing and running the same questions with nothing else. 1-minute load average after the run: ${load.toFixed(1)} on ${cores} cores (the machine is shared).`);
  note();
  note('| run | answers | per second | client p50 ms | client p95 ms | server tookMs p50 | client − tookMs p50 | errors | CPU ms per answer: serving thread, server\'s other threads, load client |');
  note('|---|---|---|---|---|---|---|---|---|');
  const rows: Array<[string, Awaited<ReturnType<typeof askLoop>>]> = [[`1 client, pool of ${workers}`, one], [`8 clients, pool of ${workers}`, eight]];
  if (eightPerCore) rows.push([`8 clients, pool of ${cores} (EMBED_WORKERS=${cores})`, eightPerCore]);
  rows.push(['8 clients, EMBED_WORKERS=0 (in-thread)', eightInThread]);
  for (const [label, r] of rows) {
    const cpu = r.cpu ? `${r.cpu.serving}, ${r.cpu.otherThreads}, ${r.cpu.client}` : 'n/a';
    note(`| ${label} | ${r.answers} | ${r.perSecond} | ${r.p50} | ${r.p95} | ${r.tookP50} | ${r.gapP50} | ${r.errors} | ${cpu} |`);
  }
  note();
  note('| measure | value |');
  note('|---|---|');
  note(`| embedding ceiling: ${cores} raw onnxruntime sessions | ${ceiling} questions/s |`);
  note(`| one raw onnxruntime session | ${single} questions/s |`);
  note(`| pool vs in-thread vectors, largest 1 − cosine (${questions.length} questions, ${chunkTexts.length} chunks) | ${worstQuery.toExponential(1)}, ${worstChunk.toExponential(1)} (must be < 1e-5) |`);
  note(`| 8 clients / 1 client | ${(eight.perSecond / one.perSecond).toFixed(2)}× (target ≥ 2×) |`);
  note(`| 8 clients, pool / in-thread | ${(eight.perSecond / eightInThread.perSecond).toFixed(2)}× |`);
  if (eightPerCore) note(`| 8 clients, pool of ${cores} / pool of ${workers} | ${(eightPerCore.perSecond / eight.perSecond).toFixed(2)}× |`);
  note(`| 8 clients / embedding ceiling | ${Math.round((100 * eight.perSecond) / ceiling)}% (target ≥ 80%) |`);
  // At 80% of the ceiling the cores give cores/(0.8 × ceiling) of CPU per answer, of which the
  // forward pass alone takes cores/ceiling: what is left is a quarter of the forward pass.
  const forwardMs = (cores * 1000) / ceiling;
  if (eight.cpu) {
    const rest = eight.cpu.serving + eight.cpu.otherThreads - forwardMs + eight.cpu.client;
    note(`| CPU per answer besides the forward pass the 80% target leaves, 8 clients | ${(forwardMs * 0.25).toFixed(2)} ms (${cores} cores ÷ ceiling = ${forwardMs.toFixed(2)} ms a forward pass); used: ${rest.toFixed(2)} ms (serving thread, the server's other threads less one forward pass, load client) |`);
  }
  note(`| 1 client: client p50 − server tookMs p50 | ${(one.p50 - one.tookP50).toFixed(1)} ms (target ≤ 2 ms) |`);
}

/** Milliseconds of one GET (headers and whole body), refused unless 200. */
async function timedGet(base: string, route: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(base + route);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${route}: ${res.status}`);
  return performance.now() - started;
}

/**
 * Issue 11's target: a start with a built index serves suggestions and commitments from its first
 * request. Starts the real server (`dist/cli/serve.js`, as `npm start` runs it) `starts` times on
 * the index and, as soon as /api/health/ready is 200, times the first requests of each kind over
 * HTTP (which one goes first alternates between starts). The next-question warm-up runs meanwhile,
 * as after every start.
 */
async function firstRequestsSection(indexDir: string, env: Record<string, string>, starts: number, note: (line?: string) => void): Promise<void> {
  const routes = ['/api/suggestions', '/api/commitments'];
  const later = `/api/suggestions?town=${encodeURIComponent('梅李镇')}`;
  const times = new Map<string, number[]>([...routes, later, 'ready'].map((r) => [r, []]));
  for (let i = 0; i < starts; i++) {
    const args = serverArgs();
    const port = await freePort();
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env, INDEX_DIR: indexDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const base = `http://127.0.0.1:${port}`;
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
        const status = await fetch(`${base}/api/health/ready`).then((r) => r.status, () => 0);
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      times.get('ready')!.push(performance.now() - started);
      for (const route of i % 2 === 0 ? routes : [...routes].reverse()) times.get(route)!.push(await timedGet(base, route));
      times.get(later)!.push(await timedGet(base, later));
    } finally {
      await stopServer({ child, base, coldStartMs: 0 });
    }
  }
  const stat = (list: number[]) => {
    const sorted = [...list].sort((a, b) => a - b);
    return { median: percentile(sorted, 50), max: sorted.at(-1) ?? 0 };
  };
  const ms = (v: number) => `${Math.round(v)} ms`;
  note('| after a start with a built index | median | max |');
  note('|---|---|---|');
  const ready = stat(times.get('ready')!);
  note(`| process start to /api/health/ready 200 (model, index, service) | ${(ready.median / 1000).toFixed(1)} s | ${(ready.max / 1000).toFixed(1)} s |`);
  for (const route of routes) {
    const { median, max } = stat(times.get(route)!);
    note(`| first \`GET ${route}\` (target < 200 ms) | ${ms(median)} | ${ms(max)} |`);
  }
  const { median, max } = stat(times.get(later)!);
  note(`| then \`GET /api/suggestions?town=梅李镇\` | ${ms(median)} | ${ms(max)} |`);
  note();
  note(`${starts} starts; client-side times (fetch, whole body), the server on the same machine.`);
}

/** INDEX_DIR when it holds an index; else one built from the corpus in a scratch folder (`work`, removed by the caller). */
async function builtIndex(config: ReturnType<typeof loadConfig>): Promise<{ indexDir: string; work?: string }> {
  if (await openRecordedFileStore(config.indexDir).publishedGeneration()) return { indexDir: config.indexDir };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const indexDir = path.join(work, 'index');
  const embedder = await createEmbedder({ modelDir: config.modelDir, modelId: config.embeddingModel, batchSize: config.embedBatchSize, queryInstruction: config.queryInstruction });
  await ingestCorpus({ corpusDir: config.corpusDir, indexDir, embedder, deriveFromIndex: suggestionDeriver(embedder, { defaultTopK: config.defaultTopK }) });
  return { indexDir, work };
}

/** The scale table (src/cli/bench-scale.ts), written between the bench-scale markers. */
async function runScale(config: ReturnType<typeof loadConfig>, embedder: Embedder): Promise<void> {
  const lines: string[] = [];
  await scaleSection(
    { startServer, stopServer, rssMb, dirSizeMb, percentile, machine },
    config,
    embedder,
    {
      sizes: scaleSizes,
      stores: scaleStores,
      requests: opts.requests,
      warmup: 20,
      pgBulkFrom: opts.pgBulkFrom,
      pgImportTimeoutS: opts.pgImportTimeout,
      agreement: opts.agreement,
      suggestions: opts.suggestions,
      // Each size's figures are kept as soon as they are measured: the next, larger one may not finish.
      onPartial: (partial) => {
        if (opts.write) replaceSection('docs/benchmarks.md', 'bench-scale', [...partial, '', '(run in progress: larger sizes not measured yet)'].join('\n'));
      },
    },
    (line = '') => {
      lines.push(line);
      out(line);
    },
  );
  if (opts.write) {
    replaceSection('docs/benchmarks.md', 'bench-scale', lines.join('\n'));
    out('written to docs/benchmarks.md');
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (opts.only === 'scale') {
    await ensureModel({ modelDir: config.modelDir, modelId: config.embeddingModel, hfEndpoint: config.hfEndpoint, mavenVersions: config.mavenVersions });
    const embedder = await createEmbedder({ modelDir: config.modelDir, modelId: config.embeddingModel, batchSize: config.embedBatchSize, queryInstruction: config.queryInstruction });
    await runScale(config, embedder);
    return;
  }
  if (opts.only === 'first-requests') {
    const lines: string[] = [];
    const note = (line = '') => {
      lines.push(line);
      out(line);
    };
    const { indexDir, work } = await builtIndex(config);
    note(`Command: \`npm run bench -- --only first-requests --starts ${opts.starts}\` (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC). Machine: ${machine()}.`);
    note();
    await firstRequestsSection(indexDir, { CORPUS_DIR: config.corpusDir, MODEL_DIR: config.modelDir }, opts.starts, note);
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (opts.write) {
      replaceSection('docs/benchmarks.md', 'bench-first-requests', lines.join('\n'));
      out('written to docs/benchmarks.md');
    }
    return;
  }
  if (opts.only === 'concurrency') {
    const lines: string[] = [];
    const note = (line = '') => {
      lines.push(line);
      out(line);
    };
    const questions = [
      ...parseEvalFile(fs.readFileSync(config.evalFile, 'utf8')).map((i) => i.question),
      ...fs
        .readFileSync(path.join(path.dirname(config.evalFile), 'follow-ups.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { standalone: string }).standalone),
    ];
    const { indexDir, work } = await builtIndex(config);
    note(`Command: \`npm run bench -- --only concurrency --duration ${opts.duration}\` (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC). Machine: ${machine()}.`);
    note();
    await concurrencySection(indexDir, { CORPUS_DIR: config.corpusDir, MODEL_DIR: config.modelDir }, questions, note);
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (opts.write) {
      replaceSection('docs/benchmarks.md', 'bench-concurrency', lines.join('\n'));
      out('written to docs/benchmarks.md');
    }
    return;
  }
  const lines: string[] = [];
  const note = (line = '') => {
    lines.push(line);
    out(line);
  };
  const questions = parseEvalFile(fs.readFileSync(config.evalFile, 'utf8')).map((i) => i.question);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));

  note(`Command: \`npm run bench\` (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC). Machine: ${machine()}.`);
  note();

  // Model load, in this fresh process (fetched first if needed, so only loading is timed).
  await ensureModel({ modelDir: config.modelDir, modelId: config.embeddingModel, hfEndpoint: config.hfEndpoint, mavenVersions: config.mavenVersions });
  const loadStarted = performance.now();
  const embedder = await createEmbedder({ modelDir: config.modelDir, modelId: config.embeddingModel, batchSize: config.embedBatchSize, queryInstruction: config.queryInstruction });
  const modelLoadMs = Math.round(performance.now() - loadStarted);

  // Ingest of the shipped corpus, from scratch.
  const indexDir = path.join(work, 'index');
  const ingest: IngestSummary = await ingestCorpus({ corpusDir: config.corpusDir, indexDir, embedder, deriveFromIndex: suggestionDeriver(embedder, { defaultTopK: config.defaultTopK }) });
  const textsPerSecond = ingest.textsEmbedded / (ingest.embedMs / 1000);

  // Embedding throughput against the plain onnxruntime loop, on the same texts.
  const built = await openRecordedFileStore(indexDir).snapshot();
  const sample = (await built.getChunks((await allChunkIds(await openIndexContext(built))).slice(0, 60))).map((c) => c!.text);
  const ortRate = await plainOrtThroughput(config.modelDir, config.embeddingModel, sample);
  const ours = await embedderThroughput(embedder, sample);

  note('### Model and ingest');
  note();
  note('| measure | value |');
  note('|---|---|');
  note(`| model load (createEmbedder, int8 ONNX) | ${modelLoadMs} ms |`);
  note(`| ingest of the shipped corpus (${ingest.documents} reports, ${ingest.chunks} chunks, ${ingest.textsEmbedded} texts: chunks + sentences) | ${(ingest.totalMs / 1000).toFixed(1)} s |`);
  note(`| embedding throughput during ingest (batch size ${config.embedBatchSize}) | ${textsPerSecond.toFixed(1)} texts/s |`);
  note(`| chunks embedded per second (chunk texts only, ${sample.length} chunks): this embedder | ${ours.toFixed(1)} chunks/s |`);
  note(`| the same chunks, plain onnxruntime loop (tokenize, run, no pooling) | ${ortRate.toFixed(1)} chunks/s |`);
  note(`| ratio plain loop / this embedder | ${(ortRate / ours).toFixed(2)}× |`);
  note();

  // The real server, as `npm start` runs it, on the index just built.
  const env = { INDEX_DIR: indexDir, CORPUS_DIR: config.corpusDir, MODEL_DIR: config.modelDir };
  const server = await startServer(env);
  const rssLoaded = rssMb(server.child.pid!);
  note('### Server');
  note();
  note(`Cold start (process start to first answered /api/ask, index built, through tsx): ${server.coldStartMs} ms. RSS after loading: ${rssLoaded} MB.`);
  note();
  const rows: string[] = [];
  for (const connections of [1, 8, 32]) rows.push(loadRow('/api/ask (cached)', await load(server.base, askRequests(questions), connections, opts.duration)));
  for (const connections of [1, 8, 32]) rows.push(loadRow('/api/search', await load(server.base, searchRequests(questions), connections, opts.duration)));
  const rssAfter = rssMb(server.child.pid!);
  await stopServer(server);

  // Uncached: every request computes its answer.
  const uncached = await startServer({ ...env, ANSWER_CACHE_SIZE: '0' });
  for (const connections of [1, 8, 32]) rows.push(loadRow('/api/ask (no cache)', await load(uncached.base, askRequests(questions), connections, opts.duration)));
  const rssUncached = rssMb(uncached.child.pid!);
  await stopServer(uncached);
  note(`Load: autocannon, ${opts.duration} s per row, requests cycling through the ${questions.length} dev questions. "cached" is the server as shipped (repeated questions come from the answer cache); "no cache" sets ANSWER_CACHE_SIZE=0.`);
  note();
  for (const l of [...LOAD_HEADER, ...rows]) note(l);
  note();
  note(`RSS after the cached load tests: ${rssAfter} MB; after the uncached ones: ${rssUncached} MB.`);
  note();

  // Concurrency (issue 13), in its own section of docs/benchmarks.md.
  const concurrency: string[] = [`Command: \`npm run bench\` (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC). Machine: ${machine()}.`, ''];
  await concurrencySection(indexDir, env, questions, (line = '') => {
    concurrency.push(line);
    out(line);
  });
  if (opts.write) replaceSection('docs/benchmarks.md', 'bench-concurrency', concurrency.join('\n'));

  // First requests after a start (issue 11), in their own section too.
  const first: string[] = [`Command: \`npm run bench\` (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC). Machine: ${machine()}.`, ''];
  await firstRequestsSection(indexDir, env, opts.starts, (line = '') => {
    first.push(line);
    out(line);
  });
  if (opts.write) replaceSection('docs/benchmarks.md', 'bench-first-requests', first.join('\n'));

  // Scale (issue 12): per store, in its own section of docs/benchmarks.md.
  if (scaleSizes.length > 0) await runScale(config, embedder);

  fs.rmSync(work, { recursive: true, force: true });
  if (opts.write) {
    replaceSection('docs/benchmarks.md', 'bench', lines.join('\n'));
    out('written to docs/benchmarks.md');
  }
}

main().then(() => process.exit(0), exitWithError);
