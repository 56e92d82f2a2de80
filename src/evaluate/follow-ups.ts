/**
 * Evaluation of follow-up rewriting over labelled two-turn dialogues (eval/follow-ups.jsonl):
 * does the rewritten question retrieve the same evidence as the standalone question a person
 * would have asked? The raw follow-up, searched as it is, is the baseline.
 */
import type { HistoryTurn } from '../retrieve/follow-up.js';
import { normalize } from './metrics.js';

export interface FollowUpItem {
  id: string;
  history: HistoryTurn[];
  /** The follow-up as typed ("那下半年呢?"). */
  question: string;
  /** The same question asked on its own, written by a person. */
  standalone: string;
  /** An exact substring of the report that answers it. */
  evidence: string;
}

export function parseFollowUpFile(content: string): FollowUpItem[] {
  return content
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      const item = JSON.parse(line) as FollowUpItem;
      if (!item.id || !item.question || !item.standalone || !item.evidence || !Array.isArray(item.history) || item.history.length === 0) {
        throw new Error(`follow-up file line ${i + 1}: id, history (non-empty), question, standalone and evidence are required`);
      }
      return item;
    });
}

/** What a run of one dialogue found: passages (best first) for each way of asking. */
export interface FollowUpRun {
  rewritten: string;
  rewrittenPassages: string[];
  standalonePassages: string[];
  rawPassages: string[];
}

export interface FollowUpResult {
  item: FollowUpItem;
  rewritten: string;
  /** 1-based rank of the first passage holding the evidence (0: none), per way of asking. */
  rewrittenRank: number;
  standaloneRank: number;
  rawRank: number;
}

const rankOf = (evidence: string, passages: string[]) => passages.findIndex((p) => normalize(p).includes(normalize(evidence))) + 1;

export function scoreFollowUp(item: FollowUpItem, run: FollowUpRun): FollowUpResult {
  return {
    item,
    rewritten: run.rewritten,
    rewrittenRank: rankOf(item.evidence, run.rewrittenPassages),
    standaloneRank: rankOf(item.evidence, run.standalonePassages),
    rawRank: rankOf(item.evidence, run.rawPassages),
  };
}

export interface FollowUpFigures {
  items: number;
  /** Dialogues whose standalone question retrieves the evidence (the ones "same evidence" is judged on). */
  standaloneHits: number;
  /** Share of those where the rewritten question retrieves it too: the headline figure. */
  sameEvidence: number;
  /** Hit rates over all dialogues: rewritten, standalone, and the follow-up searched as typed. */
  rewrittenHit: number;
  standaloneHit: number;
  rawHit: number;
}

export function summarizeFollowUps(results: readonly FollowUpResult[]): FollowUpFigures {
  const n = results.length || 1;
  const judged = results.filter((r) => r.standaloneRank > 0);
  return {
    items: results.length,
    standaloneHits: judged.length,
    sameEvidence: judged.length === 0 ? 0 : judged.filter((r) => r.rewrittenRank > 0).length / judged.length,
    rewrittenHit: results.filter((r) => r.rewrittenRank > 0).length / n,
    standaloneHit: results.filter((r) => r.standaloneRank > 0).length / n,
    rawHit: results.filter((r) => r.rawRank > 0).length / n,
  };
}

export function formatFollowUps(f: FollowUpFigures, k: number): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `Follow-ups (${f.items} two-turn dialogues, rule-based rewriting, evidence in the top ${k}):`,
    `  same evidence as the standalone question  ${pct(f.sameEvidence)}  (of the ${f.standaloneHits} whose standalone question finds it)`,
    `  hit: rewritten ${pct(f.rewrittenHit)}   standalone ${pct(f.standaloneHit)}   follow-up as typed ${pct(f.rawHit)}`,
  ].join('\n');
}

/** What the follow-up evaluation needs of the service. */
export interface FollowUpAsker {
  ask(input: { question: string; topK?: number; history?: HistoryTurn[] }): Promise<{ citations: Array<{ text: string }>; rewrittenQuestion?: string }>;
}

/** Runs every dialogue three ways (rewritten from history, standalone, as typed) and scores them. */
export async function runFollowUps(service: FollowUpAsker, items: readonly FollowUpItem[], k: number): Promise<FollowUpResult[]> {
  const results: FollowUpResult[] = [];
  for (const item of items) {
    const rewritten = await service.ask({ question: item.question, history: item.history, topK: k });
    const standalone = await service.ask({ question: item.standalone, topK: k });
    const raw = await service.ask({ question: item.question, topK: k });
    results.push(
      scoreFollowUp(item, {
        rewritten: rewritten.rewrittenQuestion ?? item.question,
        rewrittenPassages: rewritten.citations.map((c) => c.text),
        standalonePassages: standalone.citations.map((c) => c.text),
        rawPassages: raw.citations.map((c) => c.text),
      }),
    );
  }
  return results;
}
