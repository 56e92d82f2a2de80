/**
 * A damaged or mismatched index is detected when it is loaded, with a message that says what to
 * run, never a native crash. Loaded in a child process: hnswlib, given a bad header, dies of a
 * signal (SIGFPE, SIGSEGV) that would take the test runner with it. Then the real server is
 * started on a damaged index: it stays up and answers 503 with the same advice.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentGeneration } from '../../src/index/store.js';
import { openTestService, testIndexDir } from '../services.js';
import { call, LEAK, postJson, ROOT, scratch, startServer, stop, type Child } from './helpers.js';

type Damage = (gen: string, indexDir: string) => void;

const edit = (file: string, change: (bytes: Buffer) => Buffer | void): void => {
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, change(bytes) ?? bytes);
};
const manifestOf = (gen: string) => path.join(gen, 'manifest.json');
const editManifest = (gen: string, change: (m: Record<string, unknown>) => void): void => {
  const m = JSON.parse(fs.readFileSync(manifestOf(gen), 'utf8')) as Record<string, unknown>;
  change(m);
  fs.writeFileSync(manifestOf(gen), JSON.stringify(m));
};
/** Indexes written before checksums existed are checked structurally only: test that path too. */
const withoutChecksums = (gen: string) => editManifest(gen, (m) => delete m['checksums']);

/** name, damage, expected code, what the message must say. */
const CASES: Array<[string, Damage, string, RegExp]> = [
  ['a truncated vectors.hnsw', (g) => edit(path.join(g, 'vectors.hnsw'), (b) => b.subarray(0, b.length >> 1)), 'E_INDEX_CORRUPT', /vectors\.hnsw.*npm run ingest/],
  ['a truncated vectors.hnsw, no checksums', (g) => (withoutChecksums(g), edit(path.join(g, 'vectors.hnsw'), (b) => b.subarray(0, b.length >> 1))), 'E_INDEX_CORRUPT', /vectors\.hnsw.*npm run ingest/],
  ['an empty vectors.hnsw, no checksums', (g) => (withoutChecksums(g), fs.writeFileSync(path.join(g, 'vectors.hnsw'), '')), 'E_INDEX_CORRUPT', /npm run ingest/],
  // Same length, damaged header: hnswlib itself divides by zero on this one (SIGFPE).
  ['a damaged vectors.hnsw header, no checksums', (g) => (withoutChecksums(g), edit(path.join(g, 'vectors.hnsw'), (b) => void b.fill(0xff, 40, 104))), 'E_INDEX_CORRUPT', /npm run ingest/],
  // Same length, a link pointing outside the graph: loads, then a search reads wild memory.
  ['a vectors.hnsw link out of range, no checksums', (g) => (withoutChecksums(g), edit(path.join(g, 'vectors.hnsw'), (b) => void b.writeUInt32LE(0xfffffff0, 96 + 4))), 'E_INDEX_CORRUPT', /npm run ingest/],
  ['a missing vectors.hnsw', (g) => fs.rmSync(path.join(g, 'vectors.hnsw')), 'E_INDEX_CORRUPT', /npm run ingest/],
  ['a bit flipped in the vectors (same length)', (g) => edit(path.join(g, 'vectors.hnsw'), (b) => void b.writeUInt8(b.readUInt8(b.length - 100) ^ 0x40, b.length - 100)), 'E_INDEX_CORRUPT', /vectors\.hnsw.*checksum.*npm run ingest/],
  ['a truncated embeddings.f32', (g) => edit(path.join(g, 'embeddings.f32'), (b) => b.subarray(0, b.length - 4)), 'E_INDEX_CORRUPT', /embeddings\.f32.*npm run ingest/],
  ['a truncated embeddings.f32, no checksums', (g) => (withoutChecksums(g), edit(path.join(g, 'embeddings.f32'), (b) => b.subarray(0, b.length - 4))), 'E_INDEX_CORRUPT', /embeddings\.f32.*npm run ingest/],
  ['a bit flipped in sentence-embeddings.f32', (g) => edit(path.join(g, 'sentence-embeddings.f32'), (b) => void b.writeUInt8(b.readUInt8(7) ^ 1, 7)), 'E_INDEX_CORRUPT', /sentence-embeddings\.f32.*npm run ingest/],
  ['a bit flipped in derived.jsonl', (g) => edit(path.join(g, 'derived.jsonl'), (b) => void b.writeUInt8(b.readUInt8(0) ^ 1, 0)), 'E_INDEX_CORRUPT', /derived\.jsonl.*checksum.*npm run ingest/],
  ['a derived.jsonl of records without kinds, no checksums', (g) => (withoutChecksums(g), fs.writeFileSync(path.join(g, 'derived.jsonl'), '{"key":"x","value":1}\n')), 'E_INDEX_CORRUPT', /derived\.jsonl.*one a line.*npm run ingest/],
  ['a derived.jsonl cut inside a record, no checksums', (g) => (withoutChecksums(g), edit(path.join(g, 'derived.jsonl'), (b) => b.subarray(0, b.indexOf(10) + 20))), 'E_INDEX_CORRUPT', /derived\.jsonl.*unreadable.*npm run ingest/],
  ['a truncated chunks.json', (g) => edit(path.join(g, 'chunks.json'), (b) => b.subarray(0, 1000)), 'E_INDEX_CORRUPT', /chunks\.json.*npm run ingest/],
  ['a garbled manifest.json', (g) => fs.writeFileSync(manifestOf(g), '{"formatVersion": 2, "embeddingMo'), 'E_INDEX_CORRUPT', /manifest\.json.*npm run ingest/],
  ['a manifest from another model', (g) => editManifest(g, (m) => (m['embeddingModel'] = 'BAAI/bge-m3', m['dimension'] = 1024)), 'E_INDEX_MISMATCH', /bge-m3.*npm run ingest -- --full/],
  ['a manifest of another format version', (g) => editManifest(g, (m) => (m['formatVersion'] = 1)), 'E_INDEX_MISMATCH', /format version 1.*npm run ingest -- --full/],
  ['a manifest whose counts differ from the files', (g) => editManifest(g, (m) => (m['chunks'] = Number(m['chunks']) + 1)), 'E_INDEX_CORRUPT', /npm run ingest/],
  ['CURRENT naming a generation that is gone', (_g, dir) => fs.writeFileSync(path.join(dir, 'CURRENT'), 'gen-20990101t0000000-000000\n'), 'E_INDEX_CORRUPT', /npm run ingest/],
  ['CURRENT holding a path', (_g, dir) => fs.writeFileSync(path.join(dir, 'CURRENT'), '../../etc\n'), 'E_INDEX_MISSING', /npm run ingest/],
];

let work: { dir: string; remove: () => void };
let model: { id: string; dimension: number };
const dirs = new Map<string, string>();

/** A copy of the test index's live generation. */
function copyIndex(name: string): { indexDir: string; gen: string } {
  const source = testIndexDir();
  const generation = currentGeneration(source)!;
  const indexDir = path.join(work.dir, name.replace(/\W+/g, '-'));
  fs.cpSync(path.join(source, generation), path.join(indexDir, generation), { recursive: true });
  fs.writeFileSync(path.join(indexDir, 'CURRENT'), `${generation}\n`);
  return { indexDir, gen: path.join(indexDir, generation) };
}

beforeAll(async () => {
  const { embedder } = await openTestService();
  model = { id: embedder.id, dimension: embedder.dimension };
  work = scratch('corrupt-index');
  for (const [name, damage] of CASES) {
    const { indexDir, gen } = copyIndex(name);
    damage(gen, indexDir);
    dirs.set(name, indexDir);
  }
});

afterAll(() => work.remove());

type Line = { dir: string; loader: string; ok: boolean; code?: string; message?: string };
const LOADERS = ['loadIndex', 'openIndex'] as const;

describe('loading a damaged or mismatched index (in a child process), synchronously and without blocking', () => {
  /** By directory, then by loader. */
  let lines: Map<string, Map<string, Line>>;
  let result: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    const intact = copyIndex('intact').indexDir;
    dirs.set('intact', intact);
    result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/hardening/fixtures/load-index.ts'), model.id, String(model.dimension), ...dirs.values()], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    lines = new Map();
    for (const text of String(result.stdout).split('\n').filter(Boolean)) {
      const line = JSON.parse(text) as Line;
      if (!lines.has(line.dir)) lines.set(line.dir, new Map());
      lines.get(line.dir)!.set(line.loader, line);
    }
  });

  it('never dies of a signal: every case gets its line from each loader', () => {
    expect({ signal: result.signal, status: result.status, stderr: String(result.stderr).slice(0, 500) }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(lines.size).toBe(dirs.size);
    for (const byLoader of lines.values()) expect([...byLoader.keys()]).toEqual([...LOADERS]);
    const intact = lines.get(dirs.get('intact')!)!;
    expect(intact.get('loadIndex')).toMatchObject({ ok: true, hits: 5 });
    // The same generation whichever way it is loaded.
    expect({ ...intact.get('openIndex'), loader: '' }).toEqual({ ...intact.get('loadIndex'), loader: '' });
  });

  it.each(CASES.flatMap(([name, , code, message]) => LOADERS.map((loader) => [name, loader, code, message] as const)))('detects %s (%s): %s, saying what to run', (name, loader, code, message) => {
    const line = lines.get(dirs.get(name)!)!.get(loader);
    expect(line).toMatchObject({ ok: false, code });
    expect(line!.message).toMatch(message);
    // One message whichever loader found it.
    expect(line!.message).toBe(lines.get(dirs.get(name)!)!.get('loadIndex')!.message);
  });
});

describe('the server on a damaged index', () => {
  let server: (Child & { base: string }) | undefined;
  afterAll(() => stop(server));

  it('starts, stays up and answers 503 with what to run', async () => {
    const corpus = path.join(work.dir, 'empty-corpus');
    fs.mkdirSync(corpus);
    server = await startServer({ INDEX_DIR: dirs.get('a damaged vectors.hnsw header, no checksums')!, CORPUS_DIR: corpus, AUDIT_LOG: path.join(work.dir, 'audit.jsonl') });
    await server.waitFor(/service not loaded/);
    const health = await call(server.base, '/api/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'no-index', error: { code: 'E_INDEX_CORRUPT', message: expect.stringMatching(/npm run ingest/) } });
    const ready = await call(server.base, '/api/health/ready');
    expect(ready.status).toBe(503);
    const ask = await call(server.base, '/api/ask', postJson({ question: '安置房' }));
    expect(ask.status).toBe(503);
    expect(ask.body.error.message).toMatch(/npm run ingest/);
    for (const reply of [health, ready, ask]) expect(reply.raw).not.toMatch(LEAK);
    expect((await call(server.base, '/api/health/live')).status).toBe(200);
    expect(server.process.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/Segmentation|Floating point|core dumped|SIGFPE|SIGSEGV/);
  });
});
