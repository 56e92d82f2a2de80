/**
 * The bank part of `npm run eval`: out-of-fold figures of the answer/abstain decision on
 * eval/bank.jsonl (5-fold, folds by a hash of the question id: each question is judged by a model
 * fitted without it), per kind, user and trap; two checks on the answers the service actually
 * serves (every figure of an answer is in a cited passage; no answer quotes a town the question
 * did not ask about); and the two-turn dialogues of eval/bank-dialogues.jsonl.
 */
import fs from 'node:fs';
import path from 'node:path';
import { townAliases } from '../domain/towns.js';
import { extractFigures } from '../answer/grounding-checks.js';
import type { QaService } from '../answer/service.js';
import { formatDialogues, parseDialogueFile, runDialogues } from '../evaluate/dialogues.js';
import { parseEvalFile } from '../evaluate/metrics.js';
import { collectItems, figuresBy, formatOutcomeTable, isAnswerable, outOfFold, type BankItem } from '../evaluate/oof.js';

const FOLDS = 5;

export async function evaluateBank(service: QaService, file: string, verbose: boolean) {
  const items = parseEvalFile(fs.readFileSync(file, 'utf8')) as BankItem[];
  const collected = await collectItems(service, items);
  const oof = outOfFold(collected, FOLDS);
  if (verbose) {
    for (const { collected: c, outcome: o } of oof) {
      if (!o.correct) process.stderr.write(`MISS ${c.item.id} ${c.item.kind}${c.item.trap ? `/${c.item.trap}` : ''} ${o.status}${o.reason ? `/${o.reason}` : ''} | ${c.item.question}\n      ${(o.texts[0] ?? '').slice(0, 120)}\n`);
    }
  }
  // Checks on what the service serves (committed weights): figures and towns of answered items.
  let answered = 0;
  let unsupported = 0;
  let otherTown = 0;
  const served = await Promise.all(
    collected.map(async (c) => ({ c, res: c.served.found ? await service.ask({ question: c.item.question, useLlm: false, ...(c.item.filters ? { filters: c.item.filters } : {}) }) : undefined })),
  );
  for (const { c, res } of served) {
    if (!res) continue;
    answered++;
    const cited = res.citations.filter((x) => res.answer.includes(`[${x.n}]`));
    // What the answer may state: the cited passages and the lead-in's town, title and section.
    const passages = cited.map((x) => `${x.town} ${x.title} ${x.section} ${x.text}`).join('\n');
    const stripped = res.answer.replace(/\[\d+\]/g, '');
    const missing = extractFigures(stripped).filter((f) => !passages.includes(f.surface) && !Number.isNaN(f.value) && !(res.mode === 'extractive' && f.surface.length <= 1));
    if (missing.length > 0) {
      unsupported++;
      if (verbose) process.stderr.write(`UNSUPPORTED ${c.item.id} ${missing.map((f) => f.surface).join(',')} | ${res.answer.slice(0, 160)}\n`);
    }
    if (c.item.town && cited.some((x) => x.town !== c.item.town)) otherTown++;
  }
  const dialogueFile = path.join(path.dirname(file), 'bank-dialogues.jsonl');
  const dialogues = fs.existsSync(dialogueFile) ? await runDialogues(service, parseDialogueFile(fs.readFileSync(dialogueFile, 'utf8')), townAliases) : [];
  const overall = figuresBy(oof, () => 'all')['all']!;
  const text = [
    `Question bank (${items.length} questions of ${file}). **Out-of-fold** figures: ${FOLDS}-fold cross-validation of the answer/abstain model, folds by a hash of the question id; each question is judged by the model fitted on the other ${FOLDS - 1} folds (the explicit checks are rules, not fitted).`,
    '',
    formatOutcomeTable('set', { all: overall }),
    '',
    formatOutcomeTable('kind', figuresBy(oof, (i) => i.kind)),
    '',
    formatOutcomeTable('user', figuresBy(oof, (i) => i.user)),
    '',
    formatOutcomeTable('trap', figuresBy(oof, (i) => i.trap)),
    '',
    `Served answers (committed weights, fitted on the whole bank, so in-sample): ${answered} answered; ${unsupported} with a figure that no cited passage holds; ${otherTown} citing a town the question did not ask about. Answered unanswerable items: ${collected.filter((c) => !isAnswerable(c.item) && c.served.found).length}.`,
    '',
    dialogues.length > 0 ? `Dialogues (${dialogueFile}, rules, no LLM; not fitted on):\n\n${formatDialogues(dialogues)}` : '',
  ].join('\n');
  return { text, figures: { overall, byKind: figuresBy(oof, (i) => i.kind), byUser: figuresBy(oof, (i) => i.user), byTrap: figuresBy(oof, (i) => i.trap), served: { answered, unsupported, otherTown } } };
}
