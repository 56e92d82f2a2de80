/**
 * Evaluation metrics over the development questions (format: eval/README in shared docs):
 * Hit@k and MRR on cited passages, answer accuracy on the key, abstention on unanswerable items.
 */

export interface EvalItem {
  id: string;
  question: string;
  kind: string;
  town: string | null;
  file: string | null;
  evidence: string | null;
  answer: string | null;
  key: string | null;
}

/** What a system under evaluation returns for one question. */
export interface EvalResponse {
  answer: string;
  found: boolean;
  /** Passage texts, best first. */
  passages: string[];
  ms: number;
  /** Why the system answered as it did, for --verbose. */
  detail?: string;
}

export interface ItemResult {
  item: EvalItem;
  response: EvalResponse;
  /** 1-based rank of the first passage holding the evidence; 0 when none does. */
  rank: number;
  correct: boolean;
}

export interface Figures {
  items: number;
  answerable: number;
  unanswerable: number;
  hit1: number;
  hit5: number;
  mrr: number;
  /** Share of answerable items whose answer contains the key (found: false counts as wrong). */
  accuracy: number;
  /** Share of unanswerable items answered with found: false. */
  abstention: number;
  /** Share of answerable items answered with found: false. */
  falseAbstention: number;
  p50Ms: number;
  p95Ms: number;
}

/** NFKC and no whitespace: how evidence and keys are compared. */
export function normalize(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, '');
}

export function parseEvalFile(content: string): EvalItem[] {
  return content
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      const item = JSON.parse(line) as EvalItem;
      if (!item.id || !item.question || !item.kind) throw new Error(`eval file line ${i + 1}: id, question and kind are required`);
      return item;
    });
}

export function scoreItem(item: EvalItem, response: EvalResponse): ItemResult {
  const evidence = item.evidence ? normalize(item.evidence) : undefined;
  const rank = evidence ? response.passages.findIndex((p) => normalize(p).includes(evidence)) + 1 : 0;
  const correct = item.kind === 'unanswerable' || !item.key ? !response.found : response.found && normalize(response.answer).includes(normalize(item.key));
  return { item, response, rank, correct };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ratio = (n: number, d: number) => (d === 0 ? 0 : n / d);

export function summarize(results: ItemResult[]): Figures {
  const answerable = results.filter((r) => r.item.kind !== 'unanswerable' && r.item.evidence);
  const unanswerable = results.filter((r) => r.item.kind === 'unanswerable' || !r.item.evidence);
  const ms = results.map((r) => r.response.ms);
  return {
    items: results.length,
    answerable: answerable.length,
    unanswerable: unanswerable.length,
    hit1: ratio(answerable.filter((r) => r.rank === 1).length, answerable.length),
    hit5: ratio(answerable.filter((r) => r.rank >= 1 && r.rank <= 5).length, answerable.length),
    mrr: ratio(answerable.reduce((a, r) => a + (r.rank > 0 ? 1 / r.rank : 0), 0), answerable.length),
    accuracy: ratio(answerable.filter((r) => r.correct).length, answerable.length),
    abstention: ratio(unanswerable.filter((r) => !r.response.found).length, unanswerable.length),
    falseAbstention: ratio(answerable.filter((r) => !r.response.found).length, answerable.length),
    p50Ms: percentile(ms, 50),
    p95Ms: percentile(ms, 95),
  };
}

/** Figures overall and per question kind. */
export function summarizeByKind(results: ItemResult[]): Record<string, Figures> {
  const kinds = [...new Set(results.map((r) => r.item.kind))].sort();
  return Object.fromEntries([['overall', summarize(results)], ...kinds.map((k) => [k, summarize(results.filter((r) => r.item.kind === k))])]);
}

/** A Markdown table of figures by kind. */
export function formatTable(byKind: Record<string, Figures>): string {
  const f = (x: number) => x.toFixed(2);
  const rows = Object.entries(byKind).map(
    ([kind, s]) =>
      `| ${kind} | ${s.items} | ${s.answerable ? f(s.hit1) : '-'} | ${s.answerable ? f(s.hit5) : '-'} | ${s.answerable ? f(s.mrr) : '-'} | ${s.answerable ? f(s.accuracy) : '-'} | ${s.unanswerable ? f(s.abstention) : '-'} | ${s.answerable ? f(s.falseAbstention) : '-'} | ${s.p50Ms} | ${s.p95Ms} |`,
  );
  return [
    '| kind | n | Hit@1 | Hit@5 | MRR | answer acc. | abstention (unanswerable) | false abstention | p50 ms | p95 ms |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** One table for several systems: a row per system and kind. */
export function formatComparison(bySystem: Record<string, Record<string, Figures>>): string {
  const f = (x: number) => x.toFixed(2);
  const rows: string[] = [];
  const kinds = Object.keys(Object.values(bySystem)[0] ?? {});
  for (const kind of kinds) {
    for (const [system, byKind] of Object.entries(bySystem)) {
      const s = byKind[kind];
      if (!s) continue;
      const a = s.answerable > 0;
      rows.push(
        `| ${kind} | ${system} | ${a ? f(s.hit1) : '-'} | ${a ? f(s.hit5) : '-'} | ${a ? f(s.mrr) : '-'} | ${a ? f(s.accuracy) : '-'} | ${s.unanswerable ? f(s.abstention) : '-'} | ${a ? f(s.falseAbstention) : '-'} | ${s.p50Ms} |`,
      );
    }
  }
  return [
    '| kind | system | Hit@1 | Hit@5 | MRR | answer acc. | abstention | false abstention | p50 ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
