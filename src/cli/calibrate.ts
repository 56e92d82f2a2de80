/**
 * Entry point of `npm run calibrate`: refits the answer/abstain decision (a logistic regression,
 * src/answer/decision.ts) on the question bank and writes src/answer/decision-weights.json and a
 * training report (docs/benchmarks.md, section calibrate). Reports 5-fold out-of-fold figures:
 * each question is judged by a model fitted without its fold. The service only loads the weights.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { createQaService } from '../qa/service.js';
import { FEATURE_NAMES } from '../answer/decision.js';
import { parseEvalFile } from '../evaluate/metrics.js';
import { collectItems, figuresBy, fitDecision, formatOutcomeTable, outOfFold, trainingRows, type BankItem } from '../evaluate/oof.js';
import { replaceSection } from '../evaluate/report.js';
import { createLogger, exitWithError, loadConfig, openRuntime } from './runtime.js';

const WEIGHTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'answer', 'decision-weights.json');

const program = new Command()
  .name('calibrate')
  .option('--bank <path>', 'labelled questions to fit on (JSONL)', 'eval/bank.jsonl')
  .option('-k, --folds <k>', 'folds of the cross-validation', '5')
  .option('--no-write', 'print the report only; leave weights and docs alone')
  .parse();

async function main(): Promise<void> {
  const opts = program.opts<{ bank: string; folds: string; write: boolean }>();
  const k = Number(opts.folds);
  const config = loadConfig();
  const log = createLogger(config);
  const items = parseEvalFile(fs.readFileSync(opts.bank, 'utf8')) as BankItem[];
  const { snapshot, embedder } = await openRuntime(config, log);
  const service = await createQaService(snapshot, embedder, { defaultTopK: config.defaultTopK });
  const collected = await collectItems(service, items, (n) => n % 50 === 0 && log.info({ done: n, of: items.length }, 'collecting'));

  const oof = outOfFold(collected, k);
  const model = fitDecision(collected);
  const { rows, labels } = trainingRows(collected);
  const overall = figuresBy(oof, () => 'all');
  const report = [
    `Command: \`npm run calibrate\` (${new Date().toISOString().slice(0, 10)}): ${items.length} questions of ${opts.bank}, ${rows.length} candidate sentences (${labels.filter(Boolean).length} holding the key).`,
    '',
    `Method: logistic regression (src/answer/decision.ts: standardised features, L2 0.01, batch gradient descent, positives weighted by the class ratio) on the candidates that pass the explicit checks; the threshold is the one with the best weighted item accuracy on the training items (answerable 0.65, unanswerable 0.35; src/evaluate/oof.ts). Figures below are **out-of-fold**: ${k}-fold cross-validation, folds by a hash of the question id, each question judged by the model fitted on the other ${k - 1} folds.`,
    '',
    formatOutcomeTable('set', overall),
    '',
    formatOutcomeTable('kind', figuresBy(oof, (i) => i.kind)),
    '',
    formatOutcomeTable('trap', figuresBy(oof, (i) => i.trap)),
    '',
    `Weights fitted on all ${items.length} questions (threshold ${model.threshold}):`,
    '',
    '| feature | weight (standardised) |',
    '|---|---|',
    ...FEATURE_NAMES.map((f, i) => `| ${f} | ${model.weights[i]!.toFixed(3)} |`),
    `| (bias) | ${model.bias.toFixed(3)} |`,
  ].join('\n');
  process.stdout.write(`${report}\n`);
  if (opts.write) {
    const round = (xs: number[]) => xs.map((x) => Number(x.toPrecision(6)));
    const json = {
      features: model.features,
      mean: round(model.mean),
      std: round(model.std),
      weights: round(model.weights),
      bias: Number(model.bias.toPrecision(6)),
      threshold: model.threshold,
      fittedOn: { file: opts.bank, questions: items.length, candidates: rows.length, date: new Date().toISOString().slice(0, 10) },
    };
    fs.writeFileSync(WEIGHTS, `${JSON.stringify(json, null, 1)}\n`);
    replaceSection('docs/benchmarks.md', 'calibrate', report);
    process.stdout.write(`written ${path.relative(process.cwd(), WEIGHTS)} and docs/benchmarks.md\n`);
  }
}

main().then(() => process.exit(0), exitWithError);
