/**
 * Entry point of `npm run commitments`: lists what the reports promised, as a table (default),
 * CSV (with a UTF-8 BOM, for Excel) or JSON; `--id` shows one commitment with its follow-up.
 *
 *   npm run commitments -- --town 牛塘镇
 *   npm run commitments -- --town 临湖镇 --topic 交通 --csv > 临湖镇-交通.csv
 */
import { Command } from 'commander';
import { commitmentsToCsv, listCommitments, rowOf, type CommitmentFilter, type CommitmentRow } from '../commitments/book.js';
import { FOLLOW_UP_STATUSES, TOPICS, type FollowUpStatus, type Topic } from '../domain/commitment.js';
import { FIRMNESS_LABELS, FOLLOW_UP_STATUS_LABELS } from '../domain/labels.js';
import { AppError } from '../errors.js';
import { createLogger, exitWithError, loadConfig, openService } from './runtime.js';

const program = new Command()
  .name('commitments')
  .description('list the commitments of the reports, with targets, deadline, status and source')
  .option('--town <town>', 'only this town (梅李镇 …)')
  .option('--year <year>', 'only commitments due in this year', (v) => Number.parseInt(v, 10))
  .option('--topic <topic>', `only this topic: ${TOPICS.join(' ')}`)
  .option('--status <status>', `only this status: ${FOLLOW_UP_STATUSES.join(' ')}`)
  .option('-q, --query <words>', 'only commitments whose text holds these words')
  .option('--id <id>', 'one commitment with its follow-up evidence')
  .option('--csv', 'print CSV (UTF-8 with BOM) instead of a table', false)
  .option('--json', 'print JSON instead of a table', false)
  .option('--full', 'do not shorten long clauses in the table', false)
  .option('--timings', 'print how long building the commitment book took (ms) and exit', false)
  .parse();

interface Options {
  town?: string;
  year?: number;
  topic?: string;
  status?: string;
  query?: string;
  id?: string;
  csv: boolean;
  json: boolean;
  full: boolean;
  timings: boolean;
}

/** Display width: CJK and full-width characters take two columns in a terminal. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u3000-\u303f“”]/.test(ch) ? 2 : 1;
  return w;
}

/** Pads or cuts (with …) text to a display width. */
function fit(text: string, width: number): string {
  if (displayWidth(text) <= width) return text + ' '.repeat(width - displayWidth(text));
  let out = '';
  for (const ch of text) {
    if (displayWidth(out + ch) > width - 1) break;
    out += ch;
  }
  return `${out}…${' '.repeat(width - 1 - displayWidth(out))}`;
}

function table(rows: readonly CommitmentRow[], full: boolean): string {
  const columns: Array<[string, number, (r: CommitmentRow, i: number) => string]> = [
    ['#', 4, (_r, i) => String(i + 1)],
    ['年份', 4, (r) => String(r.year)],
    ['主题', 14, (r) => r.topic],
    ['力度', 4, (r) => FIRMNESS_LABELS[r.firmness]],
    ['承诺', full ? 200 : 52, (r) => r.clause],
    ['目标', 20, (r) => r.targets.map((t) => t.text).join(' ')],
    ['时限', 8, (r) => r.deadline ?? ''],
    ['状态', 14, (r) => FOLLOW_UP_STATUS_LABELS[r.status]],
    ['id', 0, (r) => r.id],
  ];
  // The last column (the id, for --id) is never cut.
  const cell = (text: string, w: number) => (w === 0 ? text : fit(text, w));
  const line = (cells: string[]) => cells.join(' │ ').trimEnd();
  const out = [line(columns.map(([name, w]) => cell(name, w))), columns.map(([, w]) => '─'.repeat(w || 8)).join('─┼─')];
  rows.forEach((r, i) => out.push(line(columns.map(([, w, get]) => cell(get(r, i), w)))));
  return out.join('\n');
}

async function main(): Promise<void> {
  const opts = program.opts<Options>();
  const config = loadConfig();
  const log = createLogger(config);
  const service = await openService(config, log);
  if (opts.topic && !(TOPICS as readonly string[]).includes(opts.topic)) throw new AppError('E_BAD_REQUEST', `--topic: one of ${TOPICS.join(' ')}`);
  if (opts.status && !(FOLLOW_UP_STATUSES as readonly string[]).includes(opts.status)) throw new AppError('E_BAD_REQUEST', `--status: one of ${FOLLOW_UP_STATUSES.join(' ')}`);
  if (opts.town && !service.towns.includes(opts.town)) throw new AppError('E_UNKNOWN_FILTER', `--town: unknown town "${opts.town}"; known: ${service.towns.join(', ')}`);
  const book = await service.commitments();
  const out = (text: string) => process.stdout.write(`${text}\n`);
  if (opts.timings) {
    out(JSON.stringify({ ...book.timings, commitments: book.commitments.length, results: book.results.length }));
    return;
  }

  if (opts.id) {
    const c = book.byId.get(opts.id);
    if (!c) throw new AppError('E_NOT_FOUND', `--id: no commitment "${opts.id}"`);
    const f = book.followUps.get(c.id);
    if (opts.json) {
      out(JSON.stringify({ commitment: rowOf(book, c), followUp: f }, null, 2));
      return;
    }
    out(`${c.town} · ${c.year}年 · ${c.topic} · ${c.action}(${FIRMNESS_LABELS[c.firmness]})`);
    out(`承诺:${c.clause}`);
    if (c.targets.length) out(`目标:${c.targets.map((t) => `${t.what} ${t.text}`).join(';')}`);
    if (c.deadline) out(`时限:${c.deadline}`);
    out(`出处:${c.title} · ${c.section} · [${c.sentenceStart}, ${c.sentenceEnd})`);
    out(`原句:${c.sentence}`);
    out(`状态:${FOLLOW_UP_STATUS_LABELS[f?.status ?? 'no-later-report']} — ${f?.note ?? ''}`);
    for (const e of f?.evidence ?? []) out(`  证据(${e.score}):${e.result.clause} — ${e.result.title} · ${e.result.section} · [${e.result.sentenceStart}, ${e.result.sentenceEnd})`);
    return;
  }

  const filter: CommitmentFilter = {
    ...(opts.town ? { town: opts.town } : {}),
    ...(opts.year !== undefined && Number.isFinite(opts.year) ? { year: opts.year } : {}),
    ...(opts.topic ? { topic: opts.topic as Topic } : {}),
    ...(opts.status ? { status: opts.status as FollowUpStatus } : {}),
    ...(opts.query ? { q: opts.query } : {}),
  };
  const rows = listCommitments(book, filter);
  if (opts.csv) {
    process.stdout.write(commitmentsToCsv(rows));
    return;
  }
  if (opts.json) {
    out(JSON.stringify(rows, null, 2));
    return;
  }
  out(table(rows, opts.full));
  const byStatus = FOLLOW_UP_STATUSES.map((s) => [s, rows.filter((r) => r.status === s).length] as const).filter(([, n]) => n > 0);
  const docs = [...new Set(rows.map((r) => r.title))];
  out(`\n${rows.length} 项承诺(${byStatus.map(([s, n]) => `${FOLLOW_UP_STATUS_LABELS[s]} ${n}`).join(',')});来源:${docs.join('、') || '无'}`);
  out('详情:npm run commitments -- --id <id>;CSV:加 --csv');
}

main().then(() => process.exit(0), exitWithError);
