/**
 * Entry point of `npm run eval`: runs the development questions through the same service the
 * server uses and prints Hit@1, Hit@5, MRR, answer accuracy, abstention and latency by kind.
 * Then the question bank (eval/bank.jsonl): its figures are out-of-fold (5-fold cross-validation
 * of the answer/abstain model, src/evaluate/oof.ts), per kind, user and trap, and its dialogues.
 * `--compare` runs the same questions through the baselines too and records the table in
 * docs/benchmarks.md.
 */
import fs from 'node:fs';
import { Command } from 'commander';
import { formatComparison, formatTable, parseEvalFile, scoreItem, summarizeByKind, type EvalItem, type ItemResult } from '../evaluate/metrics.js';
import { replaceSection } from '../evaluate/report.js';
import { denseOnlySystem, keywordOnlySystem, langchainRecipeSystem, pipelineSystem, type EvalSystem } from '../evaluate/systems.js';
import { createLogger, exitWithError, loadConfig, openRuntime } from './runtime.js';
import path from 'node:path';
import { createQaServiceOver, DEFAULT_THRESHOLD } from '../qa/service.js';
import { formatFollowUps, parseFollowUpFile, runFollowUps, summarizeFollowUps } from '../evaluate/follow-ups.js';
import { commitmentFigures, evaluateCommitments, formatCommitmentEvaluation } from './commitments-eval.js';
import { evaluateBank } from './bank-eval.js';

/** Passages a follow-up's evidence must be among. */
const FOLLOW_UP_K = 5;

const program = new Command()
  .name('eval')
  .option('--file <path>', 'questions in JSONL (default: EVAL_FILE)')
  .option('--json', 'print the figures as JSON', false)
  .option('--verbose', 'print every question with its outcome', false)
  .option('--compare', 'also run the baselines and write the comparison to docs/benchmarks.md', false)
  .option('--write', 'record the tables in docs/benchmarks.md', false)
  .option('--bank <path>', 'the labelled question bank (out-of-fold figures)', 'eval/bank.jsonl')
  .option('--no-bank', 'skip the bank')
  .parse();

async function runSystem(system: EvalSystem, items: EvalItem[], verbose: boolean): Promise<ItemResult[]> {
  await system.answer('预热'); // first call pays one-off costs; keep them out of latency figures
  const results: ItemResult[] = [];
  for (const item of items) {
    const result = scoreItem(item, await system.answer(item.question));
    results.push(result);
    if (verbose) {
      process.stderr.write(
        `${result.correct ? 'ok  ' : 'MISS'} ${item.id} ${item.kind.padEnd(12)} rank=${result.rank} found=${result.response.found} ${result.response.detail ?? ''} | ${item.question}\n` +
          `      ${result.response.answer.slice(0, 140)}\n`,
      );
    }
  }
  return results;
}

async function main(): Promise<void> {
  const opts = program.opts<{ file?: string; json: boolean; verbose: boolean; compare: boolean; write: boolean; bank: string | false }>();
  const config = loadConfig();
  const log = createLogger(config);
  const evalFile = opts.file ?? config.evalFile;
  const items = parseEvalFile(fs.readFileSync(evalFile, 'utf8'));
  const { service, snapshot, embedder } = await openRuntime(config, log);

  const systems: EvalSystem[] = [pipelineSystem(service)];
  if (opts.compare) {
    systems.push(await langchainRecipeSystem(config.corpusDir, embedder), await keywordOnlySystem(snapshot), denseOnlySystem(snapshot, embedder));
  }
  const figures: Record<string, ReturnType<typeof summarizeByKind>> = {};
  for (const system of systems) figures[system.name] = summarizeByKind(await runSystem(system, items, opts.verbose && system === systems[0]));

  // --- Follow-up rewriting: the two-turn dialogues beside the dev questions, rule-based (no LLM). ---
  const followUpFile = path.join(path.dirname(evalFile), 'follow-ups.jsonl');
  const followUps = fs.existsSync(followUpFile)
    ? summarizeFollowUps(await runFollowUps(createQaServiceOver(service.index, embedder, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD }), parseFollowUpFile(fs.readFileSync(followUpFile, 'utf8')), FOLLOW_UP_K))
    : undefined;
  // --- end of follow-ups ---

  // --- The question bank: out-of-fold figures, checks on served answers, dialogues (bank-eval.ts). ---
  const bank = opts.bank && fs.existsSync(opts.bank) && !opts.compare ? await evaluateBank(createQaServiceOver(service.index, embedder, { defaultTopK: config.defaultTopK }), opts.bank, opts.verbose) : undefined;
  // --- end of the bank ---

  // --- Commitment extraction: precision, recall, targets and topics against the labelled set (commitments-eval.ts). ---
  const reports = (await snapshot.getDocuments([...service.index.documents.keys()])).filter((d) => d !== undefined);
  const commitments = await evaluateCommitments(service, reports);
  // --- end of commitment extraction ---

  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ indexVersion: service.indexVersion, evalFile, figures, followUps, ...(bank ? { bank: bank.figures } : {}), ...(commitments ? { commitments: commitmentFigures(commitments) } : {}) }, null, 2)}\n`);
    return;
  }
  if (!opts.compare) {
    const table = formatTable(figures[systems[0]!.name]!);
    process.stdout.write(`${table}\n`);
    if (followUps) process.stdout.write(`\n${formatFollowUps(followUps, FOLLOW_UP_K)}\n`);
    if (bank) process.stdout.write(`\n${bank.text}\n`);
    if (commitments) process.stdout.write(`\n${formatCommitmentEvaluation(commitments)}\n`);
    if (opts.write) {
      replaceSection('docs/benchmarks.md', 'eval', `Command: \`npm run eval -- --write\` (${new Date().toISOString().slice(0, 10)}).\n\n${table}`);
      if (bank) replaceSection('docs/benchmarks.md', 'eval-bank', `Command: \`npm run eval -- --write\` (${new Date().toISOString().slice(0, 10)}).\n\n${bank.text}`);
    }
    return;
  }
  const table = formatComparison(figures);
  process.stdout.write(`${table}\n`);
  replaceSection(
    'docs/benchmarks.md',
    'eval-compare',
    `Command: \`npm run eval -- --compare\` (${items.length} questions from ${evalFile.replace(process.cwd() + '/', '')}, ${new Date().toISOString().slice(0, 10)}).\n\n${table}`,
  );
  process.stdout.write('written to docs/benchmarks.md\n');
}

main().then(() => process.exit(0), exitWithError);
