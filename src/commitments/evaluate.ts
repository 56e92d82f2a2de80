/**
 * Measures commitment extraction against a hand-labelled set (test/fixtures/commitments):
 * precision and recall of commitments (clauses matched by overlap), of quantified targets (value
 * and unit exactly right) and topic accuracy over matched commitments. Pure.
 */
import type { ParsedDocument } from '../domain/types.js';
import type { Commitment, TargetQualifier, Topic } from '../domain/commitment.js';

export interface LabelledTarget {
  value: number;
  unit: string;
  what: string;
  qualifier?: TargetQualifier;
}

export interface LabelledCommitment {
  /** The clause, verbatim from the report. */
  clause: string;
  /** Its offsets in the cleaned text when the set was built (the clause text is authoritative). */
  start: number;
  end: number;
  topic: Topic;
  targets: LabelledTarget[];
}

export interface LabelledSet {
  description: string;
  documents: Array<{
    docId: string;
    /** The labelled part of the report: its plan sections. */
    planStart: number;
    planEnd: number;
    commitments: LabelledCommitment[];
  }>;
}

export interface Ratio {
  gold: number;
  extracted: number;
  matched: number;
  precision: number;
  recall: number;
}

export interface ExtractionFigures {
  commitments: Ratio;
  targets: Ratio;
  topic: { matched: number; correct: number; accuracy: number };
  byDocument: Array<{ docId: string; commitments: Ratio; targets: Ratio; topicAccuracy: number }>;
  /** Labelled commitments the extractor missed, extracted ones the labels do not have, and topic errors. */
  errors: {
    missed: Array<{ docId: string; clause: string }>;
    spurious: Array<{ docId: string; clause: string }>;
    topic: Array<{ docId: string; clause: string; expected: Topic; got: Topic }>;
    targets: Array<{ docId: string; clause: string; expected: string[]; got: string[] }>;
  };
}

function ratio(gold: number, extracted: number, matched: number): Ratio {
  return { gold, extracted, matched, precision: extracted ? matched / extracted : 1, recall: gold ? matched / gold : 1 };
}

const key = (t: { value: number; unit: string }) => `${t.value}${t.unit}`;

/** Number of (value, unit) pairs two target lists share, counting repeats. */
function sharedTargets(a: Array<{ value: number; unit: string }>, b: Array<{ value: number; unit: string }>): number {
  const pool = new Map<string, number>();
  for (const t of a) pool.set(key(t), (pool.get(key(t)) ?? 0) + 1);
  let n = 0;
  for (const t of b) {
    const left = pool.get(key(t)) ?? 0;
    if (left > 0) {
      n++;
      pool.set(key(t), left - 1);
    }
  }
  return n;
}

/** Scores extracted commitments of the labelled documents against the labels. */
export function scoreExtraction(set: LabelledSet, documents: readonly ParsedDocument[], extracted: readonly Commitment[]): ExtractionFigures {
  const totals = { gold: 0, extracted: 0, matched: 0, tGold: 0, tExtracted: 0, tMatched: 0, topicMatched: 0, topicCorrect: 0 };
  const byDocument: ExtractionFigures['byDocument'] = [];
  const errors: ExtractionFigures['errors'] = { missed: [], spurious: [], topic: [], targets: [] };
  for (const labelled of set.documents) {
    const doc = documents.find((d) => d.meta.docId === labelled.docId);
    if (!doc) throw new Error(`scoreExtraction: document ${labelled.docId} is not in the index`);
    const gold = labelled.commitments.map((c) => {
      const at = doc.text.indexOf(c.clause, labelled.planStart);
      return at === -1 ? c : { ...c, start: at, end: at + c.clause.length };
    });
    const mine = extracted.filter((c) => c.docId === labelled.docId && c.start < labelled.planEnd && c.end > labelled.planStart);
    // Pairs by overlap, largest first; each side used once.
    const pairs: Array<{ g: number; e: number; overlap: number }> = [];
    gold.forEach((g, gi) =>
      mine.forEach((e, ei) => {
        const overlap = Math.min(g.end, e.end) - Math.max(g.start, e.start);
        if (overlap > 0 && overlap >= 0.5 * Math.min(g.end - g.start, e.end - e.start)) pairs.push({ g: gi, e: ei, overlap });
      }),
    );
    pairs.sort((a, b) => b.overlap - a.overlap);
    const usedG = new Set<number>();
    const usedE = new Set<number>();
    let tMatched = 0;
    let topicCorrect = 0;
    for (const p of pairs) {
      if (usedG.has(p.g) || usedE.has(p.e)) continue;
      usedG.add(p.g);
      usedE.add(p.e);
      const g = gold[p.g]!;
      const e = mine[p.e]!;
      const shared = sharedTargets(g.targets, e.targets);
      tMatched += shared;
      if (shared !== g.targets.length || shared !== e.targets.length) {
        errors.targets.push({ docId: labelled.docId, clause: g.clause, expected: g.targets.map(key), got: e.targets.map(key) });
      }
      if (g.topic === e.topic) topicCorrect++;
      else errors.topic.push({ docId: labelled.docId, clause: g.clause, expected: g.topic, got: e.topic });
    }
    gold.forEach((g, i) => {
      if (usedG.has(i)) return;
      errors.missed.push({ docId: labelled.docId, clause: g.clause });
      if (g.targets.length > 0) errors.targets.push({ docId: labelled.docId, clause: g.clause, expected: g.targets.map(key), got: [] });
    });
    mine.forEach((e, i) => {
      if (usedE.has(i)) return;
      errors.spurious.push({ docId: labelled.docId, clause: e.clause });
      if (e.targets.length > 0) errors.targets.push({ docId: labelled.docId, clause: e.clause, expected: [], got: e.targets.map(key) });
    });
    const tGold = gold.reduce((n, c) => n + c.targets.length, 0);
    const tExtracted = mine.reduce((n, c) => n + c.targets.length, 0);
    byDocument.push({
      docId: labelled.docId,
      commitments: ratio(gold.length, mine.length, usedG.size),
      targets: ratio(tGold, tExtracted, tMatched),
      topicAccuracy: usedG.size ? topicCorrect / usedG.size : 1,
    });
    totals.gold += gold.length;
    totals.extracted += mine.length;
    totals.matched += usedG.size;
    totals.tGold += tGold;
    totals.tExtracted += tExtracted;
    totals.tMatched += tMatched;
    totals.topicMatched += usedG.size;
    totals.topicCorrect += topicCorrect;
  }
  return {
    commitments: ratio(totals.gold, totals.extracted, totals.matched),
    targets: ratio(totals.tGold, totals.tExtracted, totals.tMatched),
    topic: { matched: totals.topicMatched, correct: totals.topicCorrect, accuracy: totals.topicMatched ? totals.topicCorrect / totals.topicMatched : 1 },
    byDocument,
    errors,
  };
}

const pct = (x: number) => x.toFixed(2);

/** The figures as a Markdown table (what `npm run eval` prints). */
export function formatExtractionFigures(f: ExtractionFigures): string {
  const rows = [
    '| set | commitments (gold / found) | precision | recall | targets (gold / found) | target precision | target recall | topic accuracy |',
    '|---|---|---|---|---|---|---|---|',
    ...f.byDocument.map(
      (d) =>
        `| ${d.docId} | ${d.commitments.gold} / ${d.commitments.extracted} | ${pct(d.commitments.precision)} | ${pct(d.commitments.recall)} | ${d.targets.gold} / ${d.targets.extracted} | ${pct(d.targets.precision)} | ${pct(d.targets.recall)} | ${pct(d.topicAccuracy)} |`,
    ),
    `| **all** | ${f.commitments.gold} / ${f.commitments.extracted} | ${pct(f.commitments.precision)} | ${pct(f.commitments.recall)} | ${f.targets.gold} / ${f.targets.extracted} | ${pct(f.targets.precision)} | ${pct(f.targets.recall)} | ${pct(f.topic.accuracy)} |`,
  ];
  return rows.join('\n');
}
