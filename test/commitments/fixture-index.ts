/**
 * The follow-up fixture: a scratch corpus of the shipped 牛塘镇 2022 mid-year report plus a
 * FICTIONAL later report (test/fixtures/commitments/later-report), indexed with the real model
 * into a cache folder (incremental: later runs reuse the embeddings).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { ingestCorpus } from '../../src/index/build.js';
import { loadIndex, type LoadedIndex } from '../../src/index/store.js';

export const FIXTURE_CORPUS_DIR = path.resolve('node_modules/.cache/commitments-fixture-corpus');
export const FIXTURE_INDEX_DIR = path.resolve('node_modules/.cache/commitments-fixture-index');

const SHIPPED = ['niutang-2022-midyear-report.txt', 'niutang-2022-midyear-report.meta.json'];
const FICTIONAL = ['niutang-2023-fictional-report.txt', 'niutang-2023-fictional-report.meta.json'];

/** Copies the fixture corpus into place and indexes it; returns the loaded index. */
export async function buildFixtureIndex(embedder: Embedder): Promise<LoadedIndex> {
  const config = loadConfig();
  fs.rmSync(FIXTURE_CORPUS_DIR, { recursive: true, force: true });
  fs.mkdirSync(FIXTURE_CORPUS_DIR, { recursive: true });
  for (const f of SHIPPED) fs.copyFileSync(path.join(config.corpusDir, f), path.join(FIXTURE_CORPUS_DIR, f));
  for (const f of FICTIONAL) fs.copyFileSync(path.resolve('test/fixtures/commitments/later-report', f), path.join(FIXTURE_CORPUS_DIR, f));
  await ingestCorpus({ corpusDir: FIXTURE_CORPUS_DIR, indexDir: FIXTURE_INDEX_DIR, embedder });
  return loadIndex(FIXTURE_INDEX_DIR, { embeddingModel: embedder.id, dimension: embedder.dimension });
}
