/**
 * The index write lock with reused PIDs, through the real `npm run ingest` process: a lock whose
 * PID now belongs to another process (this test's own PID with another start time, PID 1 after a
 * container restart, a lock from before a reboot) is taken over with a log line; a lock whose
 * holder is alive (same PID, same start time) gives E_BUSY until that process is gone.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/index/store.js';
import { childEnv, copyReports, eventually, runEntry, scratch, SMALL_REPORT } from './helpers.js';

let work: { dir: string; remove: () => void };
let corpusDir: string;
let indexDir: string;
let lock: string;

const startIngest = (args: string[] = []) => runEntry('src/cli/ingest.ts', args, childEnv({ CORPUS_DIR: corpusDir, INDEX_DIR: indexDir, EMBED_WORKERS: '0' }));
const ingest = async () => {
  const child = startIngest();
  const { code } = await child.exited;
  return { code, output: child.output() };
};
/** A process that stays alive, and a lock naming it as a live writer (same PID, same start time). */
const liveHolder = async () => {
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await eventually(async () => processStartTime(holder.pid!) !== undefined);
  writeLock({ pid: holder.pid, at: new Date().toISOString(), startTime: processStartTime(holder.pid!), bootId: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() });
  return {
    pid: holder.pid!,
    end: async () => {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    },
  };
};
const writeLock = (holder: Record<string, unknown>) => fs.writeFileSync(lock, JSON.stringify({ host: os.hostname(), ...holder }));

beforeAll(async () => {
  work = scratch('write-lock');
  corpusDir = path.join(work.dir, 'corpus');
  indexDir = path.join(work.dir, 'index');
  lock = path.join(indexDir, '.write.lock');
  copyReports(corpusDir, [SMALL_REPORT]);
  // A first index, so later runs reuse its embeddings and stay quick.
  const first = await ingest();
  expect(first.code, first.output).toBe(0);
}, 180_000);

afterAll(() => work.remove());

describe('the write lock with a reused PID (real ingest process)', () => {
  it('records host, PID, start time and boot id while a run holds it', async () => {
    const child = runEntry('src/cli/ingest.ts', ['--full'], childEnv({ CORPUS_DIR: corpusDir, INDEX_DIR: indexDir, EMBED_WORKERS: '0', INGEST_PAUSE_AT: 'write' }));
    try {
      await child.waitFor(/paused at write/, 120_000);
      const holder = JSON.parse(fs.readFileSync(lock, 'utf8')) as Record<string, unknown>;
      expect(holder).toMatchObject({ pid: child.process.pid, host: os.hostname(), startTime: processStartTime(child.process.pid!) });
      expect(holder['bootId']).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    // The killed run's lock names a dead process: the next run takes it over.
    const next = await ingest();
    expect(next.code, next.output).toBe(0);
    expect(next.output).toMatch(/took over a stale write lock: pid \d+ is gone/);
  }, 180_000);

  it("takes over a lock naming this test's own PID with another start time", async () => {
    writeLock({ pid: process.pid, at: new Date().toISOString(), startTime: '1', bootId: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() });
    const run = await ingest();
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(new RegExp(`took over a stale write lock: pid ${process.pid} now belongs to another process`));
    expect(fs.existsSync(lock)).toBe(false);
  }, 120_000);

  it('takes over a lock naming PID 1 written before PID 1 started (a restarted container), in the old format too', async () => {
    writeLock({ pid: 1, at: '2000-01-01T00:00:00.000Z' });
    const old = await ingest();
    expect(old.code, old.output).toBe(0);
    expect(old.output).toMatch(/took over a stale write lock: pid 1 started after the lock was taken/);
    writeLock({ pid: 1, at: new Date().toISOString(), startTime: String(Number(processStartTime(1)) + 1) });
    const recorded = await ingest();
    expect(recorded.code, recorded.output).toBe(0);
    expect(recorded.output).toMatch(/took over a stale write lock: pid 1 now belongs to another process/);
  }, 120_000);

  it('takes over a lock taken before the machine restarted', async () => {
    writeLock({ pid: process.ppid, at: new Date().toISOString(), startTime: processStartTime(process.ppid), bootId: '00000000-0000-0000-0000-000000000000' });
    const run = await ingest();
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/before the machine restarted/);
  }, 120_000);

  it('refuses with E_BUSY while the holder is alive (same PID, same start time), and takes over once it is gone', async () => {
    const holder = await liveHolder();
    try {
      const busy = await ingest();
      expect(busy.code).toBe(1);
      expect(busy.output).toMatch(new RegExp(`E_BUSY: index: another ingest \\(pid ${holder.pid}\\) is writing`));
      expect(fs.existsSync(lock)).toBe(true);
    } finally {
      await holder.end();
    }
    const after = await ingest();
    expect(after.code, after.output).toBe(0);
    expect(after.output).toMatch(new RegExp(`took over a stale write lock: pid ${holder.pid} is gone`));
  }, 120_000);

  it('with --wait, waits while the holder is alive and publishes once it is gone', async () => {
    const holder = await liveHolder();
    const waiting = startIngest(['--wait']);
    try {
      await eventually(async () => /trying again in 1 s \(wait 1 of 8\)/.test(waiting.output()), 90_000);
      expect(waiting.output()).toMatch(new RegExp(`ingest: index: another ingest \\(pid ${holder.pid}\\) is writing index/; trying again in 1 s`));
    } finally {
      await holder.end();
    }
    const { code } = await waiting.exited;
    expect(code, waiting.output()).toBe(0);
    expect(waiting.output()).toMatch(new RegExp(`took over a stale write lock: pid ${holder.pid} is gone`));
  }, 180_000);
});
