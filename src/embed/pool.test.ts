// Runs the real bge-small-zh model in worker threads and in this thread, and compares the vectors.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { createEmbedder, type Embedder } from './embedder.js';
import { ensureModel } from './model-fetch.js';
import { DEFAULT_MODEL_ID } from './model-files.js';
import { createEmbedderPool, type PooledEmbedder } from './pool.js';

const modelDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');

const TEXTS = [
  '梅李镇有多少个三级网格',
  '利用好现阶段20个二级网格、76个三级网格',
  '加快推进阿姆斯壮科创综合体建设',
  '全年实现地区生产总值GDP 120亿元，PM2.5平均浓度下降。',
  '镇上给老人做了什么?',
  '牛塘镇下半年要完成多少套安置房的初始登记?',
  '淀山湖镇2020年计划地区生产总值达到多少?',
  '推进农村人居环境整治，完成'.repeat(40),
];

const cosine = (a: Float32Array, b: Float32Array): number => {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] ?? 0) * (b[i] ?? 0);
    aa += (a[i] ?? 0) ** 2;
    bb += (b[i] ?? 0) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
};

let inThread: Embedder;
let pool: PooledEmbedder;

beforeAll(async () => {
  await ensureModel({ modelDir, modelId: DEFAULT_MODEL_ID, mavenVersions: ['0.36.2'] });
  inThread = await createEmbedder({ modelDir, modelId: DEFAULT_MODEL_ID, queryInstruction: true });
  pool = await createEmbedderPool({ modelDir, modelId: DEFAULT_MODEL_ID, queryInstruction: true, size: 2, chunkSize: 3 });
}, 180_000);

afterAll(async () => {
  await pool?.close();
});

describe('createEmbedderPool (real model in worker threads)', () => {
  it('names the same model settings as the in-thread embedder, so indexes stay compatible', () => {
    expect(pool.id).toBe(inThread.id);
    expect(pool.dimension).toBe(inThread.dimension);
    expect(pool.size).toBe(2);
  });

  it('gives query vectors within 1e-5 cosine of the in-thread ones, also when asked concurrently', async () => {
    const pooled = await Promise.all(TEXTS.map((t) => pool.embedQuery(t)));
    for (const [i, text] of TEXTS.entries()) {
      const reference = await inThread.embedQuery(text);
      expect(pooled[i]).toHaveLength(reference.length);
      expect(1 - cosine(pooled[i] as Float32Array, reference)).toBeLessThan(1e-5);
    }
  });

  it('gives document vectors in input order, within 1e-5 cosine, across chunks and workers', async () => {
    const pooled = await pool.embedDocuments(TEXTS);
    const reference = await inThread.embedDocuments(TEXTS);
    expect(pooled).toHaveLength(TEXTS.length);
    for (const [i, v] of pooled.entries()) expect(1 - cosine(v, reference[i] as Float32Array)).toBeLessThan(1e-5);
    // The query instruction applies to queries only.
    expect(1 - cosine((await pool.embedQuery(TEXTS[0] as string)), pooled[0] as Float32Array)).toBeGreaterThan(1e-3);
    expect(await pool.embedDocuments([])).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('runs each worker model on one thread: the pool work shows on as many threads as it has workers', async () => {
    // onnxruntime-node 1.14 ignored the thread count for a model given as bytes; each session then
    // ran a second, spinning thread, and two workers on two cores were slower than one.
    const cpuByThread = () =>
      new Map(
        fs.readdirSync('/proc/self/task').map((tid) => {
          const fields = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          return [tid, Number(fields[11]) + Number(fields[12])] as const;
        }),
      );
    const before = cpuByThread();
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < 400) await pool.embedQuery(`${TEXTS[next % TEXTS.length]!.slice(0, 40)} ${next++}`);
    }));
    const used = [...cpuByThread()].map(([tid, ticks]) => ticks - (before.get(tid) ?? 0));
    const busiest = Math.max(...used);
    expect(busiest).toBeGreaterThan(20);
    expect(used.filter((ticks) => ticks > busiest / 4).length).toBe(pool.size);
  }, 60_000);

  it('refuses to start without model files, naming model:fetch', async () => {
    const err = await createEmbedderPool({ modelDir: '/nonexistent-models', modelId: DEFAULT_MODEL_ID, queryInstruction: false, size: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('E_MODEL_MISSING');
    expect((err as AppError).message).toContain('model:fetch');
  });

  it('close() resolves only once the forward passes under way have finished; queued work is refused', async () => {
    const other = await createEmbedderPool({ modelDir, modelId: DEFAULT_MODEL_ID, queryInstruction: false, size: 2 });
    const outcomes: string[] = [];
    const asked = Array.from({ length: 12 }, (_, i) =>
      other.embedQuery(`梅李镇第${i}个问题`).then(
        () => outcomes.push('embedded'),
        () => outcomes.push('refused'),
      ),
    );
    // Two callers (the server's shutdown and another): both are told when the pool is idle.
    await Promise.all([other.close(), other.close()]);
    // Everything settled before close() resolved: the two in flight were embedded, the rest refused.
    expect(outcomes.length).toBe(12);
    expect(outcomes.filter((o) => o === 'embedded').length).toBe(2);
    await Promise.all(asked);
  });

  it('rejects work after close', async () => {
    const other = await createEmbedderPool({ modelDir, modelId: DEFAULT_MODEL_ID, queryInstruction: false, size: 1 });
    await other.close();
    await expect(other.embedQuery('x')).rejects.toThrow(/closed/);
  });
});

describe('worker priority', () => {
  it('runs each worker thread 10 nice levels below the event loop, on Linux', () => {
    const niceOf = (tid: string): number => {
      const stat = fs.readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const tasks = fs.readdirSync(`/proc/${process.pid}/task`);
    const main = niceOf(String(process.pid));
    expect(tasks.filter((t) => niceOf(t) === Math.min(19, main + 10)).length).toBeGreaterThanOrEqual(pool.size);
  });
});

describe('exiting after close', () => {
  it('a process that exits right after close(), with work still queued, exits cleanly (real child processes)', () => {
    // Exiting while a worker is inside a forward pass aborts the process (onnxruntime 1.14), about
    // one time in three; close() waits for the passes under way.
    const poolUrl = new URL('./pool.ts', import.meta.url).href;
    const code = `const { createEmbedderPool } = await import(${JSON.stringify(poolUrl)});
const p = await createEmbedderPool({ modelDir: ${JSON.stringify(modelDir)}, modelId: ${JSON.stringify(DEFAULT_MODEL_ID)}, queryInstruction: false, size: 2 });
for (let i = 0; i < 50; i++) p.embedQuery('梅李镇有多少个三级网格' + i).catch(() => undefined);
await new Promise((r) => setTimeout(r, 20));
await p.close();
process.exit(0);`;
    const runs = Array.from({ length: 4 }, () => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 120_000 }));
    expect(runs.map((r) => ({ status: r.status, signal: r.signal }))).toEqual(Array.from({ length: 4 }, () => ({ status: 0, signal: null })));
  }, 300_000);
});

describe('pools one after another', () => {
  it('in a process that loads nothing else of onnxruntime, a pool started after another has ended still loads (real child process)', () => {
    const poolUrl = new URL('./pool.ts', import.meta.url).href;
    const code = `const { createEmbedderPool } = await import(${JSON.stringify(poolUrl)});
for (let i = 0; i < 2; i++) {
  const p = await createEmbedderPool({ modelDir: ${JSON.stringify(modelDir)}, modelId: ${JSON.stringify(DEFAULT_MODEL_ID)}, queryInstruction: false, size: 1 });
  process.stdout.write(String((await p.embedQuery('测试')).length) + '\\n');
  await p.close();
}`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).not.toMatch(/did not self-register/);
    expect(run.stdout.trim().split('\n')).toEqual(['512', '512']);
  }, 150_000);
});
