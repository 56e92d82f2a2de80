/**
 * The ingest child process (src/index/ingest-runner.ts), for real: the real model and shipped
 * reports, a real child process. It builds an index and reports progress stage by stage; an abort
 * ends it within 2 s with the previous index exactly as it was (with no index before, the same is
 * shown through the server in first-start.test.ts); the ingest's own errors and a crash of the
 * child come back as clear errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AppError } from '../../src/errors.js';
import { runIngestInChild, type IngestProgress, type IngestRunOptions } from '../../src/index/ingest-runner.js';
import { currentGeneration, loadIndex } from '../../src/index/store.js';
import { encryptedPdf } from '../fixtures/report-files.js';
import { copyReports, scratch, SHIPPED, SMALL_REPORT } from '../hardening/helpers.js';
import { testIndexDir } from '../services.js';
import { fingerprint, withinMs } from './folders.js';

const config = loadConfig({ ...process.env, INDEX_DIR: 'unused' });
const model: IngestRunOptions['model'] = {
  modelDir: config.modelDir,
  modelId: config.embeddingModel,
  hfEndpoint: config.hfEndpoint,
  mavenVersions: config.mavenVersions,
  batchSize: config.embedBatchSize,
  queryInstruction: config.queryInstruction,
};

let work: { dir: string; remove: () => void };
beforeAll(() => {
  work = scratch('ingest-runner');
});
afterAll(() => work.remove());

/** Runs the child and aborts it at the first embedding progress; resolves with the rejection. */
async function abortDuringEmbedding(indexDir: string, full: boolean): Promise<{ error: unknown; events: IngestProgress[] }> {
  const controller = new AbortController();
  const events: IngestProgress[] = [];
  let stopped: Promise<unknown> | undefined;
  const run = runIngestInChild({
    corpusDir: SHIPPED,
    indexDir,
    model,
    full,
    signal: controller.signal,
    onProgress(event) {
      events.push(event);
      if (event.stage === 'embed' && !controller.signal.aborted) {
        controller.abort();
        stopped = withinMs(run.catch((e: unknown) => e), 2000, 'the aborted ingest');
      }
    },
  });
  const error = await run.then(
    () => new Error('the ingest finished although it was aborted'),
    (e: unknown) => e,
  );
  // The run must have been aborted during embedding, and must have ended within 2 s of it.
  expect(stopped, `no embedding progress came: ${JSON.stringify(events.slice(-3))}`).toBeDefined();
  await stopped;
  return { error, events };
}

describe('runIngestInChild', () => {
  it('builds an index from a shipped report in a child process, reporting model, load, parse, embed n/m and write in order', async () => {
    const corpusDir = path.join(work.dir, 'small-corpus');
    const indexDir = path.join(work.dir, 'small-index');
    copyReports(corpusDir, [SMALL_REPORT]);
    const events: IngestProgress[] = [];
    const summary = await runIngestInChild({ corpusDir, indexDir, model, onProgress: (e) => events.push(e) });

    const stages = events.map((e) => e.stage).filter((s, i, all) => all.indexOf(s) === i);
    expect(stages).toEqual(['model', 'load', 'parse', 'embed', 'write']);
    expect(events.filter((e) => e.stage === 'model').map((e) => e.message)).toContain('loading the model');
    const embeds = events.filter((e) => e.stage === 'embed');
    expect(embeds.length).toBeGreaterThan(0);
    for (const [i, e] of embeds.entries()) {
      expect(e.total).toBe(summary.textsEmbedded);
      if (i > 0) expect(e.done).toBeGreaterThan(embeds[i - 1]!.done);
    }
    expect(embeds.at(-1)!.done).toBe(embeds.at(-1)!.total);
    expect(events.at(-1)).toEqual({ stage: 'write', done: 1, total: 1 });

    // The summary describes what is now live, and the index loads with this process' model id.
    expect(currentGeneration(indexDir)).toBe(summary.indexVersion);
    const index = loadIndex(indexDir, { embeddingModel: loadedModelId(indexDir), dimension: 512 });
    expect(index.documents.length).toBe(1);
    expect(index.chunks.length).toBe(summary.chunks);
    expect(summary.embedded).toEqual([SMALL_REPORT]);
  });

  it('stops within 2 s of an abort during a full rebuild and leaves the previous index exactly as it was', async () => {
    const indexDir = path.join(work.dir, 'previous-index');
    fs.cpSync(testIndexDir(), indexDir, { recursive: true });
    const before = fingerprint(indexDir);
    expect(Object.keys(before)).toContain('CURRENT');
    const { error } = await abortDuringEmbedding(indexDir, true);
    expect((error as AppError).code).toBe('E_ABORTED');
    expect(fingerprint(indexDir)).toEqual(before);
  });

  it("reports the ingest's own error (an unreadable report) with its code and message", async () => {
    const corpusDir = path.join(work.dir, 'bad-corpus');
    copyReports(corpusDir, [SMALL_REPORT]);
    fs.writeFileSync(path.join(corpusDir, 'locked.pdf'), encryptedPdf());
    const indexDir = path.join(work.dir, 'bad-index');
    const error = await runIngestInChild({ corpusDir, indexDir, model }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('E_PARSE');
    expect((error as AppError).message).toMatch(/locked\.pdf/);
    expect(fingerprint(indexDir)).toEqual({});
  });

  it('says the child crashed, and that it ran out of memory, when it reaches its heap limit', async () => {
    const indexDir = path.join(work.dir, 'oom-index');
    const error = await runIngestInChild({ corpusDir: SHIPPED, indexDir, model, maxHeapMb: 16 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('E_INGEST_CRASHED');
    expect((error as AppError).message).toMatch(/ran out of memory \(heap limit 16 MB; raise INGEST_HEAP_MB\)/);
    expect((error as AppError).message).not.toMatch(/0x[0-9a-f]{6}/);
    expect(fingerprint(indexDir)).toEqual({});
  });
});

/** The embedder id the child wrote into the manifest (the child, not this process, loaded the model). */
function loadedModelId(indexDir: string): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(indexDir, currentGeneration(indexDir)!, 'manifest.json'), 'utf8')) as { embeddingModel: string };
  expect(manifest.embeddingModel).toMatch(new RegExp(`^${config.embeddingModel}@`));
  return manifest.embeddingModel;
}
