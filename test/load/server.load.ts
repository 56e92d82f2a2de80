/**
 * Load test (`npm run test:load`, not part of `npm test`): the real server process on 127.0.0.1
 * over the shipped corpus, driven for a bounded time by concurrent clients (plain fetch loops)
 * sending a mix of questions, searches, document and health reads, streamed answers and a share
 * of malformed requests. Passes when no request gets a 5xx or fails at the network level, every
 * malformed one gets its 4xx, and the server's RSS at the end is not far above the start. Prints
 * the figures and records them in docs/benchmarks.md between the load-test markers.
 *
 * Throughout, a prober asks /api/health/live every 50 ms on its own connection: the liveness
 * latency it sees (target p99 <= 20 ms) is what an orchestrator's probe would see. A second run
 * does a full reindex through the admin API while 8 clients ask (ingest runs in a child process):
 * no request may fail and no client may see a mixed index (each sees the old index, then the
 * new one, never back); liveness max is recorded (target <= 100 ms). Latency targets are recorded
 * in docs/benchmarks.md, not asserted (the project keeps timing out of pass/fail).
 *
 * LOAD_SECONDS (default 60) and LOAD_CONNECTIONS (default 32) change the run; the section in
 * docs/benchmarks.md is only rewritten by runs of at least 60 s.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testIndexDir } from '../services.js';
import { copyReports, eventually, ROOT, SHIPPED, startServer, stop, type Child } from '../hardening/helpers.js';

const SECONDS = Number(process.env['LOAD_SECONDS'] ?? 60);
const CONNECTIONS = Number(process.env['LOAD_CONNECTIONS'] ?? 32);
const BENCHMARKS = path.join(ROOT, 'docs/benchmarks.md');

interface Planned {
  kind: string;
  route: string;
  init?: RequestInit;
  /** Whether the request is malformed: it must get a 4xx; anything else must get 200. */
  malformed: boolean;
}

interface Sample {
  kind: string;
  status: number;
  ms: number;
  malformed: boolean;
}

/** A small deterministic PRNG, so every run sends the same mix. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

function planner(questions: string[], docIds: string[], random: () => number): () => Planned {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const malformed: Array<() => Planned> = [
    () => ({ kind: 'bad json', route: '/api/ask', init: json('{"question": "牛塘镇'), malformed: true }),
    () => ({ kind: 'empty question', route: '/api/ask', init: json({ question: '   ' }), malformed: true }),
    () => ({ kind: 'too long', route: '/api/ask', init: json({ question: '镇'.repeat(501) }), malformed: true }),
    () => ({ kind: 'unknown filter', route: '/api/ask', init: json({ question: pick(questions), filters: { town: '火星镇' } }), malformed: true }),
    () => ({ kind: 'bad topK', route: '/api/ask', init: json({ question: pick(questions), topK: 0 }), malformed: true }),
    () => ({ kind: 'wrong type', route: '/api/ask', init: { method: 'POST', headers: { 'content-type': 'text/plain' }, body: pick(questions) }, malformed: true }),
    () => ({ kind: 'invalid utf-8', route: '/api/ask', init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array([...Buffer.from('{"question":"'), 0xff, 0xfe, ...Buffer.from('"}')]) }, malformed: true }),
    () => ({ kind: 'control chars', route: '/api/ask', init: json({ question: '牛塘镇\u0000\u001b[2J' }), malformed: true }),
    () => ({ kind: 'repeated q', route: `/api/search?q=a&q=b`, malformed: true }),
    () => ({ kind: 'bad k', route: `/api/search?q=${encodeURIComponent('安置房')}&k=999`, malformed: true }),
    () => ({ kind: 'path trick', route: '/api/documents/..%2f..%2fetc%2fpasswd', malformed: true }),
    () => ({ kind: 'unknown route', route: '/api/nope', malformed: true }),
  ];
  return () => {
    const r = random();
    if (r < 0.4) return { kind: 'ask', route: '/api/ask', init: json({ question: pick(questions), ...(random() < 0.3 ? { topK: 1 + Math.floor(random() * 8) } : {}) }), malformed: false };
    if (r < 0.62) return { kind: 'search', route: `/api/search?q=${encodeURIComponent(pick(questions))}&k=${1 + Math.floor(random() * 20)}`, malformed: false };
    if (r < 0.67) return { kind: 'ask/stream', route: '/api/ask/stream', init: json({ question: pick(questions) }), malformed: false };
    if (r < 0.72) return { kind: 'documents', route: random() < 0.5 ? '/api/documents' : `/api/documents/${encodeURIComponent(pick(docIds))}`, malformed: false };
    if (r < 0.8) return { kind: 'health', route: pick(['/api/health', '/api/health/ready', '/api/health/live']), malformed: false };
    return pick(malformed)();
  };
}

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

const percentile = (sorted: number[], q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);

/**
 * Asks /api/health/live every `everyMs` on its own keep-alive connection until stopped; returns
 * each probe's latency (a probe that takes longer delays the next, as a real prober's would).
 */
function startProber(base: string, everyMs = 50): { stop: () => Promise<number[]>; failures: () => number } {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let failures = 0;
  let running = true;
  const probe = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = http.get({ host: url.hostname, port: url.port, path: '/api/health/live', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - started);
          if (res.statusCode !== 200) failures++;
          resolve();
        });
      });
      req.on('error', () => {
        failures++;
        resolve();
      });
    });
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await probe();
      const wait = everyMs - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    failures: () => failures,
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      return latencies;
    },
  };
}

/**
 * The server's event-loop delay since the previous scrape (prom-client resets it on each read of
 * /metrics): tells a blocked event loop from a busy machine delaying the process.
 */
async function eventLoopLag(base: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN) * 1000;
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

const lagLine = (lag: { p99: number; max: number }) => `Server event-loop delay over the run (prom-client, /metrics): p99 ${lag.p99.toFixed(1)} ms, max ${lag.max.toFixed(1)} ms.`;

const livenessLine = (latencies: number[], failures: number): string => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return `Liveness (GET /api/health/live every 50 ms on its own connection): ${sorted.length} probes, ${failures} failed, p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`;
};

/** Replaces the load-test section of docs/benchmarks.md (appending it the first time), re-reading the file first. */
function record(section: string, name = 'load-test'): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const current = fs.readFileSync(BENCHMARKS, 'utf8');
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from + start.length)}\n${section}\n${current.slice(to)}`
      : `${current.trimEnd()}\n\n${start}\n${section}\n${end}\n`;
  fs.writeFileSync(BENCHMARKS, next);
}

describe('the server under load', () => {
  let server: (Child & { base: string }) | undefined;
  let questions: string[] = [];
  let docIds: string[] = [];
  let work = '';

  beforeAll(async () => {
    questions = fs
      .readFileSync(path.join(ROOT, 'eval/dev.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { question: string }).question);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'load-'));
    server = await startServer({
      INDEX_DIR: testIndexDir(),
      CORPUS_DIR: path.join(ROOT, 'corpus'),
      AUDIT_LOG: path.join(work, 'audit.jsonl'),
      // What is measured is the service, every question computed: no answer cache and no per-IP
      // limit (all clients share 127.0.0.1). Logging as in production: a line per request.
      ANSWER_CACHE_SIZE: '0',
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'info',
    });
    await eventually(async () => (await fetch(`${server!.base}/api/health/ready`)).status === 200, 180_000);
    docIds = ((await (await fetch(`${server.base}/api/documents`)).json()) as { documents: Array<{ docId: string }> }).documents.map((d) => d.docId);
  }, 300_000);

  afterAll(async () => {
    await stop(server, 'SIGTERM');
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it(`answers ${CONNECTIONS} concurrent clients for ${SECONDS} s with no 5xx and bounded memory`, async () => {
    const { base, process: child } = server!;
    const pid = child.pid!;
    const next = planner(questions, docIds, prng(20261123));
    const send = async (plan: Planned): Promise<Sample> => {
      const started = performance.now();
      try {
        const res = await fetch(base + plan.route, plan.init);
        await res.arrayBuffer();
        return { kind: plan.kind, status: res.status, ms: performance.now() - started, malformed: plan.malformed };
      } catch {
        return { kind: plan.kind, status: 0, ms: performance.now() - started, malformed: plan.malformed };
      }
    };

    // The machine may be shared: say how busy it was (the clients run on it too).
    const loadBefore = os.loadavg()[0]!;
    // Warm up (model caches, JIT), then take the starting RSS.
    for (let i = 0; i < 60; i++) await send(next());
    const rssStart = rssOf(pid);
    const rss: number[] = [rssStart];
    const sampler = setInterval(() => rss.push(rssOf(pid)), 1000);

    await eventLoopLag(base);
    const prober = startProber(base);
    const samples: Sample[] = [];
    const deadline = performance.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < deadline) samples.push(await send(next()));
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const probeFailures = prober.failures();
    const live = await prober.stop();
    const lag = await eventLoopLag(base);
    clearInterval(sampler);
    const rssEnd = rssOf(pid);
    rss.push(rssEnd);

    const latencies = samples.map((s) => s.ms).sort((a, b) => a - b);
    const serverErrors = samples.filter((s) => s.status >= 500);
    const networkErrors = samples.filter((s) => s.status === 0);
    const wrongMalformed = samples.filter((s) => s.malformed && !(s.status >= 400 && s.status < 500));
    const wrongValid = samples.filter((s) => !s.malformed && s.status !== 200);
    const kinds = [...new Set(samples.map((s) => (s.malformed ? 'malformed' : s.kind)))];
    const rows = kinds.map((kind) => {
      const of = samples.filter((s) => (s.malformed ? 'malformed' : s.kind) === kind);
      const sorted = of.map((s) => s.ms).sort((a, b) => a - b);
      return `| ${kind} | ${of.length} | ${of.filter((s) => s.status >= 500 || s.status === 0).length} | ${percentile(sorted, 0.5).toFixed(0)} | ${percentile(sorted, 0.95).toFixed(0)} | ${percentile(sorted, 0.99).toFixed(0)} |`;
    });
    const secondHalf = rss.slice(Math.floor(rss.length / 2));
    const section = [
      `Command: \`npm run test:load\` (${SECONDS} s, ${CONNECTIONS} concurrent clients, ${new Date().toISOString().slice(0, 10)}): the real server process on`,
      `127.0.0.1 over the shipped corpus (${docIds.length} reports), answer cache off, rate limit off, info logging; 40% questions, 22% searches, 5% streamed`,
      `answers, 13% document and health reads, 20% malformed requests (bad JSON, invalid UTF-8, empty, over-long,`,
      `unknown filter, wrong content type, control characters, repeated parameters, path tricks). Node ${process.version}, ${os.cpus().length} cores`,
      `shared by the server and the clients (1-minute load average ${loadBefore.toFixed(1)} before the run).`,
      '',
      `| requests | per second | 5xx | network errors | malformed not 4xx | valid not 200 | p50 ms | p95 ms | p99 ms | max ms |`,
      `|---|---|---|---|---|---|---|---|---|---|`,
      `| ${samples.length} | ${(samples.length / elapsed).toFixed(1)} | ${serverErrors.length} | ${networkErrors.length} | ${wrongMalformed.length} | ${wrongValid.length} | ${percentile(latencies, 0.5).toFixed(0)} | ${percentile(latencies, 0.95).toFixed(0)} | ${percentile(latencies, 0.99).toFixed(0)} | ${latencies.at(-1)!.toFixed(0)} |`,
      '',
      `| kind | requests | 5xx or network errors | p50 ms | p95 ms | p99 ms |`,
      `|---|---|---|---|---|---|`,
      ...rows,
      '',
      `Server RSS: ${mb(rssStart)} MB after warm-up, ${mb(Math.max(...rss))} MB peak, ${mb(rssEnd)} MB at the end (${mb(Math.min(...secondHalf))}–${mb(Math.max(...secondHalf))} MB over the second half).`,
      '',
      `${livenessLine(live, probeFailures)} (target p99 ≤ 20 ms). ${lagLine(lag)}`,
    ].join('\n');
    process.stdout.write(`\n${section}\n\n`);
    if (SECONDS >= 60) record(section);

    expect(serverErrors.map((s) => `${s.kind} ${s.status}`)).toEqual([]);
    expect(networkErrors.length).toBe(0);
    expect(wrongMalformed.map((s) => `${s.kind} ${s.status}`)).toEqual([]);
    expect(wrongValid.map((s) => `${s.kind} ${s.status}`)).toEqual([]);
    expect(samples.filter((s) => s.malformed).length).toBeGreaterThan(samples.length * 0.1);
    // Memory: the end is not far above the start (a leak grows with the requests served).
    expect(rssEnd).toBeLessThan(Math.max(rssStart * 1.5, rssStart + 150 * 1024 * 1024));
    expect(server!.process.exitCode).toBeNull();
    expect(probeFailures).toBe(0);
  });
});

describe('the server during a full reindex through the admin API', () => {
  const TOKEN = 'load-test-admin-token-0123456789';
  const NEW_REPORT =
    '临湖镇2024年民生实事项目计划\n一、2024年民生实事\n' +
    '全镇计划新建社区食堂4家,为辖区80岁以上老人提供助餐服务。\n' +
    '年内将完成农村公路提档升级12公里,新增公交候车亭15个。\n';
  let server: (Child & { base: string }) | undefined;
  let work = '';
  let questions: string[] = [];

  beforeAll(async () => {
    questions = fs
      .readFileSync(path.join(ROOT, 'eval/dev.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { question: string }).question);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'load-reindex-'));
    // A writable copy of the test index, and the shipped corpus plus one report, so the new index
    // (6 reports) can be told from the old one (5).
    fs.cpSync(testIndexDir(), path.join(work, 'index'), { recursive: true });
    fs.rmSync(path.join(work, 'index', '.write.lock'), { force: true });
    copyReports(path.join(work, 'corpus'), fs.readdirSync(SHIPPED).filter((f) => !f.endsWith('.meta.json')));
    fs.writeFileSync(path.join(work, 'corpus', 'linhu-2024-livelihood.txt'), NEW_REPORT);
    server = await startServer({
      INDEX_DIR: path.join(work, 'index'),
      CORPUS_DIR: path.join(work, 'corpus'),
      AUDIT_LOG: path.join(work, 'audit.jsonl'),
      ADMIN_TOKEN: TOKEN,
      ANSWER_CACHE_SIZE: '0',
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'info',
    });
    await eventually(async () => (await fetch(`${server!.base}/api/health/ready`)).status === 200, 180_000);
  }, 300_000);

  afterAll(async () => {
    await stop(server, 'SIGTERM');
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('answers 8 clients with no failure and no mixed index while a full reindex runs, liveness recorded', async () => {
    const { base } = server!;
    const auth = { authorization: `Bearer ${TOKEN}` };
    await eventLoopLag(base);
    const prober = startProber(base);
    let running = true;
    const failures: string[] = [];
    const latencies: number[] = [];
    const histories: number[][] = [];
    const client = async (id: number) => {
      const seen: number[] = [];
      histories.push(seen);
      for (let n = 0; running; n++) {
        const started = performance.now();
        try {
          const docs = await fetch(`${base}/api/documents`);
          const count = docs.status === 200 ? ((await docs.json()) as { documents: unknown[] }).documents.length : -1;
          if (count !== 5 && count !== 6) failures.push(`client ${id}: /api/documents ${docs.status} with ${count} documents`);
          seen.push(count === 6 ? 1 : 0);
          const ask = await fetch(`${base}/api/ask`, json({ question: questions[(id + n) % questions.length] }));
          const body = (await ask.json()) as { citations?: Array<{ docId: string }> };
          if (ask.status !== 200) failures.push(`client ${id}: /api/ask ${ask.status}`);
          // A citation of the new report means that answer came from the new index.
          if (body.citations?.some((c) => c.docId === 'linhu-2024-livelihood')) seen.push(1);
        } catch (err) {
          failures.push(`client ${id}: ${(err as Error).message}`);
        }
        latencies.push(performance.now() - started);
      }
    };
    const clients = Array.from({ length: 8 }, (_, i) => client(i));
    await new Promise((r) => setTimeout(r, 2000));
    const reindexStarted = performance.now();
    const started = await fetch(`${base}/api/admin/reindex?full=true`, { method: 'POST', headers: auth });
    expect(started.status).toBe(202);
    const job = await eventually(
      async () => {
        const status = ((await (await fetch(`${base}/api/admin/reindex`, { headers: auth })).json()) as { reindex: { state: string; summary?: { documents: number; indexVersion: string }; error?: unknown } }).reindex;
        return status.state === 'succeeded' || status.state === 'failed' ? status : undefined;
      },
      500_000,
      250,
    );
    const reindexSeconds = (performance.now() - reindexStarted) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    running = false;
    await Promise.all(clients);
    const probeFailures = prober.failures();
    const live = await prober.stop();
    const lag = await eventLoopLag(base);
    const sorted = [...latencies].sort((a, b) => a - b);
    const section = [
      `Command: \`npm run test:load\` (second part, ${new Date().toISOString().slice(0, 10)}): the real server process with a copy of the test index and the shipped corpus plus one report;`,
      `8 clients loop over GET /api/documents and an uncached /api/ask while \`POST /api/admin/reindex?full=true\` rebuilds every report in the ingest child process. Node ${process.version}, ${os.cpus().length} cores, 1-minute load average ${os.loadavg()[0]!.toFixed(1)} at the end.`,
      '',
      `Reindex: ${job.state} in ${reindexSeconds.toFixed(1)} s (${job.summary?.documents ?? '?'} reports). Client iterations: ${latencies.length}, failed requests: ${failures.length}, p50 ${percentile(sorted, 0.5).toFixed(0)} ms, p99 ${percentile(sorted, 0.99).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms. Clients that saw the index go back or mix: ${histories.filter((h) => h.some((v, i) => i > 0 && v < h[i - 1]!)).length} of ${histories.length}.`,
      '',
      `${livenessLine(live, probeFailures)} (target max ≤ 100 ms). ${lagLine(lag)}`,
    ].join('\n');
    process.stdout.write(`\n${section}\n\n`);
    if (SECONDS >= 60) record(section, 'load-reindex');

    expect(job.state).toBe('succeeded');
    expect(job.summary?.documents).toBe(6);
    expect(failures).toEqual([]);
    for (const seen of histories) {
      // Old index, then the new one, never back: the sequence is 0…0 1…1.
      expect([...seen].sort()).toEqual(seen);
      expect(seen.at(-1)).toBe(1);
    }
    expect(probeFailures).toBe(0);
  });
});
