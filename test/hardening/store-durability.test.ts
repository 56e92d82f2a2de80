/**
 * How the index store writes a generation, observed at the file-system calls: every file goes
 * through a temporary name, fsync and rename (hnswlib's own save included), the manifest last,
 * the folder fsynced, then CURRENT. Failures injected at each rename leave the previous
 * generation live; the write lock keeps two writers apart and survives a dead holder.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { currentGeneration, loadIndex, writeIndex, type IndexData, type LoadedIndex } from '../../src/index/store.js';
import type { VectorIndex } from '../../src/index/vector.js';
import { openTestService, testIndexDir } from '../services.js';
import { scratch } from './helpers.js';

let source: LoadedIndex;
let work: { dir: string; remove: () => void };
let expect_: { embeddingModel: string; dimension: number };
let counter = 0;

/** A copy of the test index's data under a fresh generation name. */
function generationData(): IndexData {
  counter += 1;
  const { vectors: _v, sentenceRows: _s, ...data } = source;
  return { ...data, manifest: { ...source.manifest, indexVersion: `gen-test-${String(counter).padStart(3, '0')}` } };
}

/** The test index's graph, recording where it was asked to save. */
function recordingVectors(saves: string[]): VectorIndex {
  return { size: source.vectors.size, search: source.vectors.search.bind(source.vectors), save: (file) => (saves.push(file), source.vectors.save(file)) };
}

type Event = { op: 'open' | 'write' | 'fsync' | 'rename' | 'close'; path: string; to?: string };

/** Records open/write/fsync/rename calls (by path, fds resolved) while `run` executes. */
function observe(run: () => void): Event[] {
  const events: Event[] = [];
  const fds = new Map<number, string>();
  const { openSync, writeFileSync, fsyncSync, renameSync } = fs;
  vi.spyOn(fs, 'openSync').mockImplementation(((file: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
    const fd = openSync(file, flags ?? 'r', mode);
    fds.set(fd, String(file));
    events.push({ op: 'open', path: String(file) });
    return fd;
  }) as typeof fs.openSync);
  vi.spyOn(fs, 'writeFileSync').mockImplementation(((file: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, options?: fs.WriteFileOptions) => {
    events.push({ op: 'write', path: typeof file === 'number' ? fds.get(file)! : String(file) });
    writeFileSync(file, data, options);
  }) as typeof fs.writeFileSync);
  vi.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
    events.push({ op: 'fsync', path: fds.get(fd)! });
    fsyncSync(fd);
  });
  vi.spyOn(fs, 'renameSync').mockImplementation((from: fs.PathLike, to: fs.PathLike) => {
    events.push({ op: 'rename', path: String(from), to: String(to) });
    renameSync(from, to);
  });
  try {
    run();
  } finally {
    vi.restoreAllMocks();
  }
  return events;
}

beforeAll(async () => {
  const { embedder } = await openTestService();
  expect_ = { embeddingModel: embedder.id, dimension: embedder.dimension };
  source = loadIndex(testIndexDir(), expect_);
  work = scratch('store');
});

afterEach(() => vi.restoreAllMocks());
afterAll(() => work.remove());

describe('writeIndex', () => {
  it('writes every file through a temporary name, fsync and rename; the manifest last; then CURRENT', () => {
    const indexDir = path.join(work.dir, 'ordered');
    const saves: string[] = [];
    const data = generationData();
    const events = observe(() => writeIndex(indexDir, data, recordingVectors(saves)));
    const genDir = path.join(indexDir, data.manifest.indexVersion);
    const files = fs.readdirSync(genDir).sort();
    expect(files).toEqual(['chunks.json', 'derived.jsonl', 'documents.json', 'embeddings.f32', 'keywords.json', 'lexicon.json', 'manifest.json', 'sentence-embeddings.f32', 'vectors.hnsw']);

    // Nothing is ever written, or saved by hnswlib, under a final name.
    for (const e of events.filter((x) => x.op === 'write')) expect(e.path).toMatch(/\.tmp$|\.write\.lock$/);
    expect(saves).toEqual([path.join(genDir, 'vectors.hnsw.tmp')]);

    const at = (pred: (e: Event) => boolean) => events.findIndex(pred);
    const renameOf = (final: string) => at((e) => e.op === 'rename' && e.to === final);
    for (const name of files) {
      const final = path.join(genDir, name);
      const renamed = renameOf(final);
      expect(renamed, `${name} renamed into place`).toBeGreaterThan(-1);
      expect(events[renamed]!.path).toBe(`${final}.tmp`);
      const synced = at((e) => e.op === 'fsync' && e.path === `${final}.tmp`);
      expect(synced, `${name} fsynced`).toBeGreaterThan(-1);
      expect(synced).toBeLessThan(renamed);
    }
    const manifest = renameOf(path.join(genDir, 'manifest.json'));
    for (const name of files) if (name !== 'manifest.json') expect(renameOf(path.join(genDir, name))).toBeLessThan(manifest);
    const dirSynced = events.findIndex((e, i) => i > manifest && e.op === 'fsync' && e.path === genDir);
    const current = renameOf(path.join(indexDir, 'CURRENT'));
    expect(dirSynced).toBeGreaterThan(manifest);
    expect(current).toBeGreaterThan(dirSynced);
    expect(at((e) => e.op === 'fsync' && e.path === `${path.join(indexDir, 'CURRENT')}.tmp`)).toBeLessThan(current);
    expect(events.findIndex((e, i) => i > current && e.op === 'fsync' && e.path === indexDir)).toBeGreaterThan(current);

    // The manifest records a checksum of every other file, and the generation loads.
    const written = JSON.parse(fs.readFileSync(path.join(genDir, 'manifest.json'), 'utf8')) as { checksums: Record<string, string> };
    expect(Object.keys(written.checksums).sort()).toEqual(files.filter((f) => f !== 'manifest.json'));
    expect(currentGeneration(indexDir)).toBe(data.manifest.indexVersion);
    expect(loadIndex(indexDir, expect_).chunks.length).toBe(source.chunks.length);
    expect(fs.readdirSync(genDir).some((f) => f.endsWith('.tmp'))).toBe(false);
    expect(fs.existsSync(path.join(indexDir, '.write.lock'))).toBe(false);
  });

  it.each(['documents.json', 'vectors.hnsw', 'manifest.json', 'CURRENT'])('leaves the previous generation live when the rename of %s fails', (failing) => {
    const indexDir = path.join(work.dir, `fault-${failing}`);
    const previous = writeIndex(indexDir, generationData(), source.vectors);
    const { renameSync } = fs;
    vi.spyOn(fs, 'renameSync').mockImplementation((from, to) => {
      if (path.basename(String(to)) === failing) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      renameSync(from, to);
    });
    expect(() => writeIndex(indexDir, generationData(), source.vectors)).toThrow(/ENOSPC/);
    vi.restoreAllMocks();
    expect(currentGeneration(indexDir)).toBe(previous);
    expect(loadIndex(indexDir, expect_).manifest.indexVersion).toBe(previous);
    // The lock was released: the next write succeeds and cleans up the half-written generation.
    const next = writeIndex(indexDir, generationData(), source.vectors);
    expect(currentGeneration(indexDir)).toBe(next);
    expect(fs.readdirSync(indexDir).filter((n) => n.startsWith('gen-')).sort()).toEqual([previous, next].sort());
  });

  it('keeps the generation it replaced (a server may be loading it) and removes older ones', () => {
    const indexDir = path.join(work.dir, 'keep');
    const first = writeIndex(indexDir, generationData(), source.vectors);
    const second = writeIndex(indexDir, generationData(), source.vectors);
    expect(fs.readdirSync(indexDir).filter((n) => n.startsWith('gen-')).sort()).toEqual([first, second]);
    const third = writeIndex(indexDir, generationData(), source.vectors);
    expect(fs.readdirSync(indexDir).filter((n) => n.startsWith('gen-')).sort()).toEqual([second, third]);
  });

  it('refuses to write while another live process holds the lock, and takes over a dead one', () => {
    const indexDir = path.join(work.dir, 'locked');
    fs.mkdirSync(indexDir, { recursive: true });
    const lock = path.join(indexDir, '.write.lock');
    // The test runner's parent is alive for the whole run.
    fs.writeFileSync(lock, JSON.stringify({ pid: process.ppid, host: os.hostname(), at: new Date().toISOString() }));
    expect(() => writeIndex(indexDir, generationData(), source.vectors)).toThrow(expect.objectContaining({ code: 'E_BUSY' }));
    expect(currentGeneration(indexDir)).toBeUndefined();

    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(lock, JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), at: new Date().toISOString() }));
    const generation = writeIndex(indexDir, generationData(), source.vectors);
    expect(currentGeneration(indexDir)).toBe(generation);
    expect(fs.existsSync(lock)).toBe(false);
  });
});
