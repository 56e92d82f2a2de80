/**
 * Ingestion with the real model on copies of two real reports: incremental re-runs, changed,
 * added and removed files, and a bad file that must leave the previous index serving.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQaService, DEFAULT_THRESHOLD } from '../src/qa/service.js';
import { snapshotOfLoadedIndex } from '../src/store/file-store.js';
import type { Embedder } from '../src/embed/embedder.js';
import { ingestCorpus } from '../src/index/build.js';
import { currentGeneration, loadIndex } from '../src/index/store.js';
import { openTestService } from './services.js';

const SHIPPED = path.resolve('corpus');
const SMALL = 'meili-2023-reform-plan.txt';
const OTHER = 'tianshenggang-2022-summary-2023-plan.txt';

let work: string;
let corpusDir: string;
let indexDir: string;
let embedder: Embedder;

function copyReport(name: string): void {
  fs.copyFileSync(path.join(SHIPPED, name), path.join(corpusDir, name));
  const sidecar = name.replace(/\.txt$/, '.meta.json');
  if (fs.existsSync(path.join(SHIPPED, sidecar))) fs.copyFileSync(path.join(SHIPPED, sidecar), path.join(corpusDir, sidecar));
}

const ingest = (extra: { skipBad?: boolean } = {}) => ingestCorpus({ corpusDir, indexDir, embedder, ...extra });
const open = () => loadIndex(indexDir, { embeddingModel: embedder.id, dimension: embedder.dimension });

beforeAll(async () => {
  ({ embedder } = await openTestService());
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-test-'));
  corpusDir = path.join(work, 'corpus');
  indexDir = path.join(work, 'index');
  fs.mkdirSync(corpusDir);
  copyReport(SMALL);
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('ingestCorpus', () => {
  it('builds an index that answers from the report it was given', async () => {
    const summary = await ingest();
    expect(summary.documents).toBe(1);
    expect(summary.embedded).toEqual([SMALL]);
    expect(summary.chunksEmbedded).toBe(summary.chunks);
    const service = await createQaService(snapshotOfLoadedIndex(open()), embedder, { defaultTopK: 5, threshold: DEFAULT_THRESHOLD });
    const answer = await service.ask({ question: '梅李镇2023年在东部新镇区要完成哪条新建道路工程?' });
    expect(answer.found).toBe(true);
    expect(answer.answer).toContain('东环路');
  });

  it('embeds nothing again when no file changed', async () => {
    const before = currentGeneration(indexDir);
    const summary = await ingest();
    expect(summary.chunksEmbedded).toBe(0);
    expect(summary.reused).toEqual([SMALL]);
    expect(currentGeneration(indexDir)).not.toBe(before);
    expect(open().chunks.length).toBe(summary.chunks);
  });

  it('embeds only a new file, and only a changed file', async () => {
    copyReport(OTHER);
    const added = await ingest();
    expect(added.embedded).toEqual([OTHER]);
    expect(added.reused).toEqual([SMALL]);
    expect(added.documents).toBe(2);

    const file = path.join(corpusDir, SMALL);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('76个三级网格', '77个三级网格'));
    const changed = await ingest();
    expect(changed.embedded).toEqual([SMALL]);
    expect(changed.reused).toEqual([OTHER]);
    // Content-addressed: only the edited sentence and the chunk holding it go through the model.
    expect(changed.textsEmbedded).toBe(2);
    const index = open();
    expect(index.chunks.some((c) => c.text.includes('77个三级网格'))).toBe(true);
    expect(index.chunks.some((c) => c.text.includes('76个三级网格'))).toBe(false);
  });

  it('drops a removed file from the index', async () => {
    fs.rmSync(path.join(corpusDir, OTHER));
    fs.rmSync(path.join(corpusDir, OTHER.replace(/\.txt$/, '.meta.json')), { force: true });
    const summary = await ingest();
    expect(summary.removed).toEqual([OTHER]);
    expect(open().documents.map((d) => d.meta.file)).toEqual([SMALL]);
  });

  it('fails on an unreadable file without touching the previous index, naming the file', async () => {
    const before = currentGeneration(indexDir);
    const chunksBefore = open().chunks.length;
    copyReport(OTHER);
    fs.writeFileSync(path.join(corpusDir, 'broken.txt'), Buffer.from([0x00, 0x01, 0x02, 0xff, 0x00, 0x13, 0x37, 0x00]));
    await expect(ingest()).rejects.toMatchObject({ code: 'E_PARSE', message: expect.stringContaining('broken.txt') });
    expect(currentGeneration(indexDir)).toBe(before);
    expect(open().chunks.length).toBe(chunksBefore);
  });

  it('skips the unreadable file and says so when asked to', async () => {
    const summary = await ingest({ skipBad: true });
    expect(summary.skipped.map((s) => s.file)).toEqual(['broken.txt']);
    expect(summary.documents).toBe(2);
    fs.rmSync(path.join(corpusDir, 'broken.txt'));
  });

  it('indexes a report saved twice under two names once', async () => {
    fs.copyFileSync(path.join(corpusDir, SMALL), path.join(corpusDir, 'copy-of-meili.txt'));
    const summary = await ingest();
    expect(summary.duplicates).toEqual([{ file: SMALL, sameAs: 'copy-of-meili.txt' }]);
    expect(summary.documents).toBe(2);
    fs.rmSync(path.join(corpusDir, 'copy-of-meili.txt'));
  });
});
