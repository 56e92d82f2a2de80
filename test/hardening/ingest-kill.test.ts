/**
 * Crash safety of ingest, for real: `npm run ingest`'s entry point runs as a child process on
 * temporary folders, pauses at a checkpoint (INGEST_PAUSE_AT: during embedding, in the middle of
 * writing the generation, just before the CURRENT switch) and is killed there with SIGKILL. After
 * each kill a server starts on what is left: it serves the previous complete index, or, when there
 * was none, answers 503 saying to run `npm run ingest`. The last check starts the real server
 * process on the state a kill left.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQaService, DEFAULT_THRESHOLD } from '../../src/qa/service.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { AppError } from '../../src/errors.js';
import { currentGeneration, loadIndex } from '../../src/index/store.js';
import { createApp } from '../../src/server/app.js';
import { createServiceHolder } from '../../src/server/service-holder.js';
import { openTestService } from '../services.js';
import { call, childEnv, close, copyReports, eventually, listen, postJson, runEntry, scratch, SMALL_REPORT, startServer, stop } from './helpers.js';

let embedder: Embedder;
let work: { dir: string; remove: () => void };
let corpusDir: string;
let indexDir: string;

const MEILI_QUESTION = '梅李镇2023年在东部新镇区要完成哪条新建道路工程?';

/**
 * A small added report: short sentences (cheap to embed on a shared machine), but more texts than
 * one embedding batch (64), so the `embed` pause falls in the middle of embedding.
 */
const ADDED_REPORT =
  '临湖镇2024年工作计划\n一、2024年主要目标\n' +
  Array.from({ length: 70 }, (_, i) => `全镇计划完成第${i + 1}项民生工程,投入资金${(i + 1) * 37}万元。`).join('\n') +
  '\n';

/** Runs the ingest entry point; with `pauseAt`, kills it with SIGKILL once it reports the pause. */
async function ingest(pauseAt?: 'embed' | 'write' | 'swap'): Promise<string> {
  const child = runEntry('src/cli/ingest.ts', [], childEnv({ CORPUS_DIR: corpusDir, INDEX_DIR: indexDir, ...(pauseAt ? { INGEST_PAUSE_AT: pauseAt } : {}) }));
  if (!pauseAt) {
    const { code } = await child.exited;
    expect(code, child.output()).toBe(0);
    return child.output();
  }
  await child.waitFor(new RegExp(`ingest: paused at ${pauseAt}`), 120_000);
  child.process.kill('SIGKILL');
  expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' });
  return child.output();
}

/** Starts a server the way serve.ts does on an existing index folder: load it, or report why not. */
async function serveWhatIsLeft(): Promise<{ server: Server; base: string }> {
  const holder = createServiceHolder();
  try {
    holder.swap(await createQaService(snapshotOfLoadedIndex(loadIndex(indexDir, { embeddingModel: embedder.id, dimension: embedder.dimension })), embedder, { defaultTopK: 5, threshold: DEFAULT_THRESHOLD }));
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    holder.fail(err as AppError);
  }
  return listen(createApp({ getService: holder.current, getLoadError: holder.loadError, maxQuestionChars: 500, defaultTopK: 5, web: false }));
}

async function expectNoIndex(): Promise<void> {
  expect(currentGeneration(indexDir)).toBeUndefined();
  const { server, base } = await serveWhatIsLeft();
  try {
    const ask = await call(base, '/api/ask', postJson({ question: MEILI_QUESTION }));
    expect(ask.status).toBe(503);
    expect(ask.body.error).toMatchObject({ code: 'E_INDEX_MISSING', message: expect.stringContaining('npm run ingest') });
    const health = await call(base, '/api/health');
    expect(health.status).toBe(503);
    expect(health.body.error.message).toContain('npm run ingest');
  } finally {
    await close(server);
  }
}

async function expectServing(generation: string, documents: number): Promise<void> {
  expect(currentGeneration(indexDir)).toBe(generation);
  const { server, base } = await serveWhatIsLeft();
  try {
    const health = await call(base, '/api/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', documents, indexVersion: generation });
    const ask = await call(base, '/api/ask', postJson({ question: MEILI_QUESTION }));
    expect(ask.status).toBe(200);
    expect(ask.body.found).toBe(true);
    expect(ask.body.answer).toContain('东环路');
  } finally {
    await close(server);
  }
}

beforeAll(async () => {
  ({ embedder } = await openTestService());
  work = scratch('ingest-kill');
  corpusDir = path.join(work.dir, 'corpus');
  indexDir = path.join(work.dir, 'index');
  copyReports(corpusDir, [SMALL_REPORT]);
});

afterAll(() => work.remove());

describe('SIGKILL during the first ingest (no previous index)', () => {
  it.each(['embed', 'write', 'swap'] as const)('at %s: the server starts and answers 503 saying to run npm run ingest', async (point) => {
    await ingest(point);
    await expectNoIndex();
  });

  it('leaves nothing that stops the next ingest (its dead lock is taken over)', async () => {
    expect(fs.existsSync(path.join(indexDir, '.write.lock'))).toBe(true);
    await ingest();
    await expectServing(currentGeneration(indexDir)!, 1);
  });
});

describe('SIGKILL while a new report is ingested (previous index live)', () => {
  let previous = '';

  beforeAll(() => {
    previous = currentGeneration(indexDir)!;
    fs.writeFileSync(path.join(corpusDir, 'linhu-2024-plan.txt'), ADDED_REPORT);
  });

  it.each(['embed', 'write', 'swap'] as const)('at %s: the previous index keeps serving', async (point) => {
    await ingest(point);
    await expectServing(previous, 1);
  });

  it('the real server process, started on what the last kill left, serves the previous index', async () => {
    const server = await startServer({ CORPUS_DIR: corpusDir, INDEX_DIR: indexDir, AUDIT_LOG: path.join(work.dir, 'audit.jsonl') });
    try {
      await eventually(async () => (await call(server.base, '/api/health/ready')).status === 200, 60_000);
      const health = await call(server.base, '/api/health');
      expect(health.body).toMatchObject({ status: 'ok', documents: 1, indexVersion: previous });
      const ask = await call(server.base, '/api/ask', postJson({ question: MEILI_QUESTION }));
      expect(ask.body.answer).toContain('东环路');
    } finally {
      await stop(server);
    }
  });

  it('the next complete ingest makes the new index live and clears what the kills left', async () => {
    await ingest();
    const live = currentGeneration(indexDir)!;
    expect(live).not.toBe(previous);
    await expectServing(live, 2);
    expect(fs.readdirSync(indexDir).filter((n) => n.startsWith('gen-')).sort()).toEqual([previous, live].sort());
    expect(fs.readdirSync(indexDir).some((n) => n.endsWith('.tmp') || n === '.write.lock')).toBe(false);
  });
});
