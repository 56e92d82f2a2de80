/**
 * How long each step of loading a generation holds the event loop (issue 13: a reindex must not
 * stall liveness). Not a test: a measurement, run by hand and recorded in docs/benchmarks.md:
 *
 *   node --import tsx test/load/reload-steps.ts [indexDir]    (default: the test index)
 *
 * A 1-ms interval timer notes the longest gap between its ticks while each step runs: that is the
 * longest time the loop could not answer anything. The synchronous loaders (loadIndex,
 * createTokenizer) are measured too, for contrast: they are what a reload ran before openIndex and
 * prepareTokenizer. Three rounds; the machine's load average is printed with them.
 */
import os from 'node:os';
import path from 'node:path';
import { createQaService, DEFAULT_THRESHOLD } from '../../src/qa/service.js';
import { loadConfig } from '../../src/config.js';
import { loadIndex, openIndex, type LoadedIndex } from '../../src/index/store.js';
import { createTokenizer, prepareTokenizer } from '../../src/text/tokenize.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import { measuredIndex, openPool, watchLoopGaps } from './loop-gaps.js';

const { indexDir, manifest } = measuredIndex();
const expect = { embeddingModel: manifest.embeddingModel, dimension: manifest.dimension };
const gaps = watchLoopGaps();

/** Runs a step and prints its wall time and the longest event-loop gap while it ran. */
async function step<T>(label: string, run: () => T | Promise<T>): Promise<T> {
  const { result, wallMs, gapMs } = await gaps.measure(run);
  process.stdout.write(`| ${label} | ${wallMs.toFixed(1)} | ${gapMs.toFixed(1)} |\n`);
  return result;
}

const config = loadConfig();
const pool = await openPool(config);
process.stdout.write(`Index ${path.basename(indexDir)}/ (${manifest.documents} reports, ${manifest.chunks} chunks), Node ${process.version}, ${os.cpus().length} cores, 1-minute load average ${os.loadavg()[0]!.toFixed(1)} at the start.\n`);
for (let round = 1; round <= 3; round++) {
  process.stdout.write(`\nRound ${round}\n\n| step | wall ms | longest event-loop gap ms |\n|---|---|---|\n`);
  await step('loadIndex (synchronous, as before)', () => loadIndex(indexDir, expect));
  const steps: string[] = [];
  const index: LoadedIndex = await step('openIndex', () => openIndex(indexDir, expect, (name, ms) => steps.push(`${name} ${ms.toFixed(1)}`)));
  // A lexicon no tokenizer was built for: what a reindex that adds a term pays.
  const fresh = [...index.lexicon, `新词${round}${Date.now()}`];
  await step('createTokenizer, a new lexicon (synchronous, as before)', () => createTokenizer([...index.lexicon, `旧词${round}${Date.now()}`]));
  await step('prepareTokenizer, a new lexicon', () => prepareTokenizer(fresh));
  await step('prepareTokenizer, the same lexicon as the live one', () => prepareTokenizer(fresh));
  await step('createQaService (its tokenizer prepared)', () => createQaService(snapshotOfLoadedIndex({ ...index, lexicon: fresh }), pool, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD }));
  process.stdout.write(`\nopenIndex's steps on the event loop (ms): ${steps.join('; ')}\n`);
}
process.stdout.write(`\n1-minute load average at the end: ${os.loadavg()[0]!.toFixed(1)}\n`);
gaps.stop();
await pool.close();
process.exit(0);
