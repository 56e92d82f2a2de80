/** Entry point of `npm run ask -- "问题"`: prints the answer and its citations. */
import { Command } from 'commander';
import { createLogger, exitWithError, loadConfig, openService } from './runtime.js';

const program = new Command()
  .name('ask')
  .argument('<question...>', 'the question, in Chinese')
  .option('-k, --top-k <n>', 'passages to cite', (v) => Number.parseInt(v, 10))
  .option('--town <town>', 'only this town')
  .option('--json', 'print the response as JSON', false)
  .parse();

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  const opts = program.opts<{ topK?: number; town?: string; json: boolean }>();
  const question = program.args.join(' ').trim();
  const service = await openService(config, log);
  const { diagnostics, ...response } = await service.ask({
    question,
    ...(opts.topK ? { topK: opts.topK } : {}),
    ...(opts.town ? { filters: { town: opts.town } } : {}),
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
    return;
  }
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(response.answer);
  out(response.found ? '' : '(报告中没有找到答案)');
  for (const c of response.citations) {
    out(`[${c.n}] ${c.town} · ${c.title} · ${c.date} · ${c.section || '(无标题)'} · ${c.role} · 相似度 ${c.score}`);
    out(`    ${c.text}`);
  }
  out(`(${response.tookMs} ms, confidence ${diagnostics.confidence.toFixed(2)})`);
}

main().then(() => process.exit(0), exitWithError);
