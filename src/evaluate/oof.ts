/**
 * Fitting and judging the answer/abstain decision on a labelled question bank without ever
 * reporting on the items a model was fitted on: each question's candidates (features, checks,
 * text) are collected once through the real service, then k-fold cross-validation refits the
 * logistic regression on k-1 folds and re-decides the held-out fold with `decide`, the same
 * function the service uses. Folds are assigned by a hash of the question id (decision.ts).
 */
import { decide, type CandidateRecord } from '../answer/extractive.js';
import { fitLogistic, foldOf, probability, type DecisionModel, type Features } from '../answer/decision.js';
import type { AnswerReason, AnswerStatus } from '../domain/answer.js';
import { normalize, type EvalItem } from './metrics.js';

/** An item of the bank, as the eval files hold it (dev.jsonl's format plus optional labels). */
export interface BankItem extends EvalItem {
  /** Who asks: official, resident, staff. */
  user?: string;
  /** For unanswerable items: which trap (other-town, other-year, plan-only, result-only, no-figure, not-mentioned). */
  trap?: string;
  /** The request's filters (a town the widget sends when the question names none). */
  filters?: { town?: string };
}

/** What the service said about one item, with the candidates it weighed. */
export interface CollectedItem {
  item: BankItem;
  /** The service's own outcome with the committed weights. */
  served: { found: boolean; status: AnswerStatus; reason?: AnswerReason; answer: string };
  /** Candidates and probes; absent when the outcome did not rest on the model (unknown town, year no report covers, commitment list). */
  candidates?: CandidateRecord[];
  probes?: CandidateRecord[];
  deadline: boolean;
  /** Towns the question names (a question about several gets each town's sentence). */
  towns?: string[];
}

export const isAnswerable = (item: EvalItem): boolean => item.kind !== 'unanswerable' && !!item.key && !!item.evidence;

/** Does a candidate's text hold the item's key? The label the model is fitted to. */
export function holdsKey(item: EvalItem, text: string): boolean {
  return isAnswerable(item) && normalize(text).includes(normalize(item.key!));
}

export interface Outcome {
  found: boolean;
  status: AnswerStatus;
  reason?: AnswerReason;
  /** The texts quoted as the answer (empty unless found). */
  texts: string[];
  correct: boolean;
}

/** The outcome of one collected item under a model and threshold (the service's rule). */
export function outcomeWith(c: CollectedItem, model: DecisionModel, threshold: number): Outcome {
  const answerable = isAnswerable(c.item);
  if (!c.candidates) {
    // Not the model's decision: the served outcome stands.
    const correct = answerable ? c.served.found && normalize(c.served.answer).includes(normalize(c.item.key!)) : !c.served.found;
    return { found: c.served.found, status: c.served.status, ...(c.served.reason ? { reason: c.served.reason } : {}), texts: c.served.found ? [c.served.answer] : [], correct };
  }
  const p = (r: CandidateRecord) => probability(model, r.features);
  const d = decide(c.candidates, p, threshold, { deadline: c.deadline, ...(c.probes ? { probes: c.probes } : {}), ...(c.towns && c.towns.length > 1 ? { towns: c.towns } : {}) });
  if (d.kind === 'answer') {
    const texts = d.chosen.map((i) => c.candidates![i]!.text);
    return { found: true, status: 'answered', texts, correct: answerable && texts.some((t) => holdsKey(c.item, t)) };
  }
  // Another town's answer is named, not quoted: not found, as the service says.
  const status: AnswerStatus = d.kind === 'partial' && d.reason !== 'other-town' ? 'partial' : 'not_found';
  return { found: false, status, reason: d.reason, texts: [], correct: !answerable };
}

/** Training rows: every candidate that passes the checks, labelled by whether it holds the key. */
export function trainingRows(items: readonly CollectedItem[]): { rows: Features[]; labels: number[] } {
  const rows: Features[] = [];
  const labels: number[] = [];
  for (const c of items) {
    for (const r of c.candidates ?? []) {
      if (r.failed.length > 0) continue;
      rows.push(r.features);
      labels.push(holdsKey(c.item, r.text) ? 1 : 0);
    }
  }
  return { rows, labels };
}

/**
 * Weight of refusing unanswerable questions against answering answerable ones when the threshold
 * is chosen on the training folds. 0.35 was chosen among 0.35-0.5 by the out-of-fold figures
 * (docs/benchmarks.md): the explicit checks already refuse most unanswerable questions, so the
 * threshold is left to weigh the answerable ones, residents' paraphrases above all.
 */
export const REFUSAL_WEIGHT = 0.35;

/** Weighted item accuracy: answerable accuracy and unanswerable refusal (see REFUSAL_WEIGHT). */
function balancedAccuracy(items: readonly CollectedItem[], model: DecisionModel, threshold: number, refusalWeight: number = REFUSAL_WEIGHT): number {
  let a = 0;
  let an = 0;
  let u = 0;
  let un = 0;
  for (const c of items) {
    const o = outcomeWith(c, model, threshold);
    if (isAnswerable(c.item)) {
      an++;
      if (o.correct) a++;
    } else {
      un++;
      if (o.correct) u++;
    }
  }
  return (an ? a / an : 1) * (1 - refusalWeight) + (un ? u / un : 1) * refusalWeight;
}

/** Thresholds tried when fitting: the one with the best balanced accuracy on the training items wins. */
const THRESHOLDS = Array.from({ length: 31 }, (_, i) => 0.2 + i * 0.02);

/** Fits the model and its threshold on some items. */
export function fitDecision(items: readonly CollectedItem[]): DecisionModel {
  const { rows, labels } = trainingRows(items);
  const positives = labels.filter(Boolean).length;
  const model = fitLogistic(rows, labels, { positiveWeight: positives > 0 ? Math.min(10, (labels.length - positives) / positives) : 1 });
  let best = { threshold: 0.5, score: -1 };
  for (const t of THRESHOLDS) {
    const score = balancedAccuracy(items, model, t);
    // Ties go to the higher threshold: refusing is the safer error.
    if (score >= best.score) best = { threshold: t, score };
  }
  return { ...model, threshold: Number(best.threshold.toFixed(2)) };
}

/** k-fold cross-validation: each item's outcome under the model fitted on the other folds. */
export function outOfFold(items: readonly CollectedItem[], k: number): Array<{ collected: CollectedItem; outcome: Outcome; fold: number }> {
  const folds = items.map((c) => foldOf(c.item.id, k));
  const out: Array<{ collected: CollectedItem; outcome: Outcome; fold: number }> = [];
  for (let f = 0; f < k; f++) {
    const train = items.filter((_, i) => folds[i] !== f);
    const model = fitDecision(train);
    items.forEach((c, i) => {
      if (folds[i] === f) out.push({ collected: c, outcome: outcomeWith(c, model, model.threshold), fold: f });
    });
  }
  // Back in the bank's order.
  const order = new Map(items.map((c, i) => [c.item.id, i]));
  return out.sort((a, b) => order.get(a.collected.item.id)! - order.get(b.collected.item.id)!);
}

export interface OutcomeFigures {
  n: number;
  answerable: number;
  unanswerable: number;
  /** Answerable items answered with the key. */
  accuracy: number;
  /** Answerable items not answered. */
  falseNotFound: number;
  /** Unanswerable items not answered. */
  refused: number;
}

export function figuresOf(results: ReadonlyArray<{ collected: CollectedItem; outcome: Outcome }>): OutcomeFigures {
  const ans = results.filter((r) => isAnswerable(r.collected.item));
  const un = results.filter((r) => !isAnswerable(r.collected.item));
  const ratio = (n: number, d: number) => (d === 0 ? NaN : n / d);
  return {
    n: results.length,
    answerable: ans.length,
    unanswerable: un.length,
    accuracy: ratio(ans.filter((r) => r.outcome.correct).length, ans.length),
    falseNotFound: ratio(ans.filter((r) => !r.outcome.found).length, ans.length),
    refused: ratio(un.filter((r) => !r.outcome.found).length, un.length),
  };
}

/** Figures overall and per group (kind, user, trap). */
export function figuresBy(results: ReadonlyArray<{ collected: CollectedItem; outcome: Outcome }>, key: (item: BankItem) => string | undefined): Record<string, OutcomeFigures> {
  const groups = new Map<string, Array<{ collected: CollectedItem; outcome: Outcome }>>();
  for (const r of results) {
    const k = key(r.collected.item);
    if (k === undefined) continue;
    const list = groups.get(k);
    if (list) list.push(r);
    else groups.set(k, [r]);
  }
  return Object.fromEntries([...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, list]) => [k, figuresOf(list)]));
}

export function formatOutcomeTable(title: string, groups: Record<string, OutcomeFigures>): string {
  const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(2));
  return [
    `| ${title} | n | answerable | answer acc. | false not found | unanswerable | refused |`,
    '|---|---|---|---|---|---|---|',
    ...Object.entries(groups).map(([k, g]) => `| ${k} | ${g.n} | ${g.answerable} | ${f(g.accuracy)} | ${f(g.falseNotFound)} | ${g.unanswerable} | ${f(g.refused)} |`),
  ].join('\n');
}

/** What collecting needs of the service. */
export interface CollectingService {
  ask(input: { question: string; useLlm?: boolean; filters?: { town?: string } }): Promise<{ answer: string; found: boolean; status: AnswerStatus; reason?: AnswerReason; diagnostics: { candidates?: CandidateRecord[]; probes?: CandidateRecord[]; question?: { deadline: boolean; towns?: string[] } } }>;
}

/** Runs every item through the service (no LLM) and keeps its candidates. */
export async function collectItems(service: CollectingService, items: readonly BankItem[], onItem?: (done: number) => void): Promise<CollectedItem[]> {
  const out: CollectedItem[] = [];
  for (const item of items) {
    const res = await service.ask({ question: item.question, useLlm: false, ...(item.filters ? { filters: item.filters } : {}) });
    out.push({
      item,
      served: { found: res.found, status: res.status, ...(res.reason ? { reason: res.reason } : {}), answer: res.answer },
      ...(res.diagnostics.candidates ? { candidates: res.diagnostics.candidates } : {}),
      ...(res.diagnostics.probes ? { probes: res.diagnostics.probes } : {}),
      deadline: res.diagnostics.question?.deadline ?? false,
      ...(res.diagnostics.question?.towns ? { towns: res.diagnostics.question.towns } : {}),
    });
    onItem?.(out.length);
  }
  return out;
}
