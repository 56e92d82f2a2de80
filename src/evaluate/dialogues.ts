/**
 * The bank's two-turn dialogues (eval/bank-dialogues.jsonl): is the second question answered
 * with its key, does a self-contained second question reach the search as typed, and does the
 * search keep the dialogue's town? Run through the real service with its history.
 */
import type { HistoryTurn } from '../retrieve/follow-up.js';
import { normalize } from './metrics.js';

export interface DialogueItem {
  id: string;
  history: HistoryTurn[];
  question: string;
  standalone: string;
  evidence: string;
  town: string;
  key: string;
  /** The second question stands on its own: it must be searched as typed. */
  selfContained: boolean;
  filters?: { town?: string };
}

export interface DialogueResult {
  item: DialogueItem;
  searched: string;
  answered: boolean;
  correct: boolean;
  keptAsTyped: boolean;
  keptTown: boolean;
}

export function parseDialogueFile(content: string): DialogueItem[] {
  return content
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const d = JSON.parse(l) as DialogueItem;
      if (!d.id || !d.question || !Array.isArray(d.history) || !d.key) throw new Error(`dialogue file line ${i + 1}: id, history, question and key are required`);
      return d;
    });
}

export interface DialogueAsker {
  ask(input: { question: string; history: HistoryTurn[]; useLlm?: boolean; filters?: { town?: string } }): Promise<{ answer: string; found: boolean; rewrittenQuestion?: string }>;
}

export async function runDialogues(service: DialogueAsker, items: readonly DialogueItem[], aliasesOf: (town: string) => string[]): Promise<DialogueResult[]> {
  const out: DialogueResult[] = [];
  for (const item of items) {
    const res = await service.ask({ question: item.question, history: item.history, useLlm: false, ...(item.filters ? { filters: item.filters } : {}) });
    const searched = res.rewrittenQuestion ?? item.question;
    out.push({
      item,
      searched,
      answered: res.found,
      correct: res.found && normalize(res.answer).includes(normalize(item.key)),
      keptAsTyped: normalize(searched) === normalize(item.question),
      keptTown: aliasesOf(item.town).some((a) => searched.includes(a)) || item.filters?.town === item.town,
    });
  }
  return out;
}

export function formatDialogues(results: readonly DialogueResult[]): string {
  const f = (xs: readonly DialogueResult[], p: (r: DialogueResult) => boolean) => (xs.length === 0 ? '-' : (xs.filter(p).length / xs.length).toFixed(2));
  const own = results.filter((r) => r.item.selfContained);
  const follow = results.filter((r) => !r.item.selfContained);
  return [
    '| dialogues | n | answer acc. (key) | searched as typed | town kept |',
    '|---|---|---|---|---|',
    `| second question stands alone | ${own.length} | ${f(own, (r) => r.correct)} | ${f(own, (r) => r.keptAsTyped)} | ${f(own, (r) => r.keptTown)} |`,
    `| follow-up (elliptical) | ${follow.length} | ${f(follow, (r) => r.correct)} | - | ${f(follow, (r) => r.keptTown)} |`,
    `| all | ${results.length} | ${f(results, (r) => r.correct)} | - | ${f(results, (r) => r.keptTown)} |`,
  ].join('\n');
}
