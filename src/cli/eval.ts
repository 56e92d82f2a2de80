/**
 * Entry point of `npm run eval`: runs the development questions through the same service the
 * server uses and prints Hit@1, Hit@5, MRR, answer accuracy, abstention and latency by kind.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { formatTable, parseEvalFile, scoreItem, summarizeByKind, type ItemResult } from '../evaluate/metrics.js';
import { createLogger, exitWithError, loadConfig, openService } from './runtime.js';

const program = new Command()
  .name('eval')
  .option('--file <path>', 'questions in JSONL (default: EVAL_FILE)')
  .option('--json', 'print the figures as JSON', false)
  .option('--verbose', 'print every question with its outcome', false)
  .parse();

async function main(): Promise<void> {
  const opts = program.opts<{ file?: string; json: boolean; verbose: boolean }>();
  const config = loadConfig();
  const log = createLogger(config);
  const items = parseEvalFile(fs.readFileSync(opts.file ?? config.evalFile, 'utf8'));
  const service = await openService(config, log);
  await service.ask({ question: '预热' }); // first call pays one-off costs; keep them out of latency figures

  const results: ItemResult[] = [];
  for (const item of items) {
    const response = await service.ask({ question: item.question });
    const result = scoreItem(item, {
      answer: response.answer,
      found: response.found,
      passages: response.citations.map((c) => c.text),
      ms: response.tookMs,
    });
    results.push(result);
    if (opts.verbose) {
      const d = response.diagnostics;
      process.stderr.write(
        `${result.correct ? 'ok  ' : 'MISS'} ${item.id} ${item.kind.padEnd(12)} rank=${result.rank} found=${response.found} ` +
          `conf=${d.confidence.toFixed(2)} cov=${d.coverage.toFixed(2)} miss=${d.missing.toFixed(2)} dense=${d.topDense.toFixed(2)} sent=${d.sentenceDense.toFixed(2)} ${d.reason} | ${item.question}\n` +
          `      ${response.answer.slice(0, 140)}\n`,
      );
    }
  }
  const byKind = summarizeByKind(results);
  if (opts.json) process.stdout.write(`${JSON.stringify({ indexVersion: service.indexVersion, figures: byKind }, null, 2)}\n`);
  else process.stdout.write(`${formatTable(byKind)}\n`);
}

main().then(() => process.exit(0), exitWithError);
