/**
 * How long one question holds the event loop at a time (issue 13: CPU-heavy steps of a question
 * must not block for more than a few milliseconds). Not a test: a measurement, run by hand and
 * recorded in docs/benchmarks.md:
 *
 *   node --import tsx test/load/answer-steps.ts [indexDir]    (default: the test index)
 *
 * Each dev question is answered alone, three ways: as asked, with topK 20, and stretched to the
 * 500-character limit with topK 20 (the slowest requests of the attack report). A 1-ms interval
 * timer notes the longest gap between its ticks while the answer is computed: the longest time
 * the loop could not answer anything else. The embedding runs in the worker pool, as in the server;
 * the steps between (retrieval, sentence scoring, composing) wait for their turns (src/turns.ts).
 * The first round warms up; the second is reported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openIndex } from '../../src/index/store.js';
import { createQaService, DEFAULT_THRESHOLD, type AskInput } from '../../src/qa/service.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import { measuredIndex, openPool, watchLoopGaps } from './loop-gaps.js';

const { indexDir, manifest } = measuredIndex();
const config = loadConfig();
const pool = await openPool(config);
const index = await openIndex(indexDir, { embeddingModel: manifest.embeddingModel, dimension: manifest.dimension });
const service = await createQaService(snapshotOfLoadedIndex(index), pool, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD });
const watch = watchLoopGaps();

const questions = fs
  .readFileSync(path.resolve('eval/dev.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { question: string }).question);
const stretched = (q: string): string => `${q}，请详细说明相关的工作情况、具体数字和进展，包括去年和今年的对比以及下一步的计划安排。`.repeat(12).slice(0, config.maxQuestionChars);
const kinds: Array<[string, (q: string) => AskInput]> = [
  ['dev question as asked', (q) => ({ question: q })],
  ['dev question, topK 20', (q) => ({ question: q, topK: 20 })],
  [`stretched to ${config.maxQuestionChars} characters, topK 20`, (q) => ({ question: stretched(q), topK: 20 })],
];

const at = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
process.stdout.write(`Index ${path.basename(indexDir)}/ (${manifest.documents} reports, ${manifest.chunks} chunks), ${questions.length} dev questions, embedding pool of ${pool.size}, Node ${process.version}, ${os.cpus().length} cores, 1-minute load average ${os.loadavg()[0]!.toFixed(1)} at the start.\n\n`);
process.stdout.write('| question | answer wall ms, p50 | longest event-loop gap ms: p50 | p90 | max |\n|---|---|---|---|---|\n');
for (const [label, input] of kinds) {
  const gaps: number[] = [];
  const walls: number[] = [];
  for (let round = 0; round < 2; round++) {
    for (const q of questions) {
      const { wallMs, gapMs } = await watch.measure(() => service.ask(input(q)));
      if (round === 1) {
        gaps.push(gapMs);
        walls.push(wallMs);
      }
    }
  }
  gaps.sort((a, b) => a - b);
  walls.sort((a, b) => a - b);
  process.stdout.write(`| ${label} | ${at(walls, 0.5).toFixed(1)} | ${at(gaps, 0.5).toFixed(1)} | ${at(gaps, 0.9).toFixed(1)} | ${gaps.at(-1)!.toFixed(1)} |\n`);
}
process.stdout.write(`\n1-minute load average at the end: ${os.loadavg()[0]!.toFixed(1)}\n`);
watch.stop();
await pool.close();
process.exit(0);
