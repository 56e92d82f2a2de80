/**
 * Follow-up: for each commitment, the results that later review sections of the same town report
 * about it, and a status. `met` needs a cited figure at or beyond every target, or an explicit
 * statement of completion; a figure short of a target, or a mention without completion, is
 * `partly`; a town with later reports that never mention it is `not-reported`; a town with no later
 * report is `no-later-report`. Pure: records, documents and two similarity functions in.
 */
import type { ParsedDocument } from '../domain/types.js';
import { baseValue } from './targets.js';
import type { Commitment, Evidence, FollowUp, Result, Target, TargetCheck } from '../domain/commitment.js';

export interface FollowUpOptions {
  /** Content words of a text (jieba, no stop words). */
  tokenize: (text: string) => string[];
  /** How rare a word is in the corpus (IDF); rare words carry a match. */
  weightOf: (token: string) => number;
  /** Cosine similarity of two sentences' stored embeddings (undefined when either is not indexed). */
  sentenceSimilarity: (a: { docId: string; sentenceStart: number }, b: { docId: string; sentenceStart: number }) => number | undefined;
  /** Least share (IDF-weighted) of the commitment's object words a result must repeat. Default 0.4. */
  minOverlap?: number;
  /** Least combined score for a result to count as evidence. Default 0.5. */
  minScore?: number;
  /** Evidence kept per commitment. Default 3. */
  maxEvidence?: number;
}

/** A report's date as a sortable key: 2022-07-14, or a bare year taken as that year's end. */
function dateKey(date: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(date)) return date;
  if (/^\d{4}$/.test(date)) return `${date}-12-31`;
  return '0000-00-00';
}

/** Review sections that can report on a commitment: later reports of its town covering its year or after. */
export function laterReviews(commitment: Pick<Commitment, 'docId' | 'town' | 'year' | 'start'>, documents: readonly ParsedDocument[]): Array<{ doc: ParsedDocument; start: number; end: number }> {
  const own = documents.find((d) => d.meta.docId === commitment.docId);
  const ownDate = own ? dateKey(own.meta.date) : '0000-00-00';
  const out: Array<{ doc: ParsedDocument; start: number; end: number }> = [];
  for (const doc of documents) {
    if (doc.meta.town !== commitment.town) continue;
    const sameDoc = doc.meta.docId === commitment.docId;
    if (!sameDoc && dateKey(doc.meta.date) <= ownDate) continue;
    for (const s of doc.sections) {
      if (s.role !== 'review' || !s.years.some((y) => y >= commitment.year)) continue;
      // In the same report, only a review that comes after the promise (and covers its year) can report on it.
      if (sameDoc && s.start <= commitment.start) continue;
      out.push({ doc, start: s.start, end: s.end });
    }
  }
  return out;
}

function weightedOverlap(commitmentTokens: string[], resultTokens: Set<string>, weightOf: (t: string) => number): number {
  let total = 0;
  let shared = 0;
  for (const t of new Set(commitmentTokens)) {
    const w = weightOf(t);
    total += w;
    if (resultTokens.has(t)) shared += w;
  }
  return total > 0 ? shared / total : 0;
}

/** Words every plan and review uses: they say nothing about which promise a sentence is about. */
const GENERIC = new Set([
  '工作', '建设', '推进', '持续', '加快', '加强', '完成', '全面', '切实', '做好', '抓好', '深化', '继续', '进一步', '积极', '稳步',
  '项目', '开展', '实施', '推动', '提升', '全力', '着力', '重点', '确保', '实现', '年内', '全年', '今年', '下半年', '上半年',
  '我们', '顺利', '有序', '扎实', '大力', '不断', '力争', '争取', '新增', '创建', '相关', '各类', '各项', '全镇', '镇', '计划',
]);

/** What a commitment is about, for matching: its clause and what its targets count, less the generic words. */
function subjectTokens(c: Commitment, tokenize: (t: string) => string[]): string[] {
  return tokenize([c.clause, ...c.targets.map((t) => t.what)].join(' ')).filter((t) => !GENERIC.has(t) && !/^\d+(\.\d+)?$/.test(t));
}

/** The words around a figure in its clause: what it counts and what is done to it (6座桥梁维修). */
function figureContext(target: Target, record: { clause: string; start: number }, tokenize: (t: string) => string[]): Set<string> {
  const from = Math.max(0, target.start - record.start - 8);
  const to = Math.min(record.clause.length, target.end - record.start + 10);
  return new Set([...tokenize(target.what), ...tokenize(record.clause.slice(from, to))].filter((t) => !/^\d/.test(t)));
}

/**
 * Pairs each target with an achieved figure of the same unit in the evidence (best evidence first),
 * each figure used once, preferring the one whose surrounding words match (三星上云7家 ↔ 三星上云9家).
 */
export function checkTargets(commitment: Pick<Commitment, 'clause' | 'start' | 'targets'>, evidence: ReadonlyArray<{ result: Result }>, tokenize: (t: string) => string[]): TargetCheck[] {
  const candidates: Array<{ t: number; achieved: Target; score: number }> = [];
  commitment.targets.forEach((target, t) => {
    const unit = baseValue(target).unit;
    const mine = figureContext(target, commitment, tokenize);
    evidence.forEach(({ result }, rank) => {
      for (const achieved of result.targets) {
        if (baseValue(achieved).unit !== unit) continue;
        const theirs = figureContext(achieved, result, tokenize);
        const shared = [...mine].filter((w) => theirs.has(w)).length;
        if (shared === 0) continue;
        candidates.push({ t, achieved, score: shared / Math.max(1, mine.size) - 0.01 * rank });
      }
    });
  });
  candidates.sort((a, b) => b.score - a.score);
  const paired = new Map<number, Target>();
  const used = new Set<Target>();
  for (const c of candidates) {
    if (paired.has(c.t) || used.has(c.achieved)) continue;
    paired.set(c.t, c.achieved);
    used.add(c.achieved);
  }
  return commitment.targets.map((target, t) => {
    const achieved = paired.get(t);
    if (!achieved) return { target };
    const got = baseValue(achieved).value;
    const want = baseValue(target).value;
    const reached = target.qualifier === 'max' ? got <= want : target.qualifier === 'about' ? got >= want * 0.95 : got >= want;
    return { target, achieved, reached };
  });
}

function describeTarget(t: Target): string {
  return t.text;
}

/** Follows up every commitment. */
export function followUpCommitments(
  commitments: readonly Commitment[],
  results: readonly Result[],
  documents: readonly ParsedDocument[],
  options: FollowUpOptions,
): Map<string, FollowUp> {
  const minOverlap = options.minOverlap ?? 0.4;
  const minScore = options.minScore ?? 0.5;
  const maxEvidence = options.maxEvidence ?? 3;
  const resultTokens = new Map(results.map((r) => [r.id, new Set(options.tokenize(`${r.clause} ${r.sentence}`))]));
  const clauseTokens = new Map(results.map((r) => [r.id, new Set(options.tokenize(r.clause))]));
  const out = new Map<string, FollowUp>();

  for (const c of commitments) {
    const reviews = laterReviews(c, documents);
    const laterDocIds = [...new Set(reviews.map((r) => r.doc.meta.docId))];
    if (reviews.length === 0) {
      out.set(c.id, { commitmentId: c.id, status: 'no-later-report', note: `语料中还没有${c.town}之后的报告`, laterDocIds, evidence: [] });
      continue;
    }
    const inReview = (r: Result) => reviews.some((s) => s.doc.meta.docId === r.docId && r.start >= s.start && r.end <= s.end);
    const tokens = subjectTokens(c, options.tokenize);
    const evidence: Evidence[] = [];
    if (tokens.length === 0) {
      out.set(c.id, { commitmentId: c.id, status: 'not-reported', note: '承诺的内容过于笼统,无法在之后的报告中对照', laterDocIds, evidence: [] });
      continue;
    }
    /** Evidence whose own clause names the promise (not only its sentence): it may state completion. */
    const direct = new Set<Result>();
    for (const r of results) {
      if (r.town !== c.town || !inReview(r)) continue;
      // The clause itself should repeat the promise; its sentence may add context at a discount.
      const own = weightedOverlap(tokens, clauseTokens.get(r.id)!, options.weightOf);
      const inSentence = weightedOverlap(tokens, resultTokens.get(r.id)!, options.weightOf);
      const overlap = Math.max(own, 0.8 * inSentence);
      if (overlap < minOverlap) continue;
      const dense = options.sentenceSimilarity(c, r) ?? 0.5;
      const sameUnit = c.targets.some((t) => r.targets.some((a) => baseValue(a).unit === baseValue(t).unit)) ? 0.1 : 0;
      const score = Math.min(1, 0.6 * overlap + 0.4 * Math.max(0, (dense - 0.4) / 0.5) + sameUnit);
      if (score < minScore) continue;
      if (own >= minOverlap) direct.add(r);
      evidence.push({ result: r, score: Math.round(score * 1000) / 1000, checks: [] });
    }
    evidence.sort((a, b) => b.score - a.score || a.result.start - b.result.start);
    const kept = evidence.slice(0, maxEvidence);
    if (kept.length === 0) {
      out.set(c.id, { commitmentId: c.id, status: 'not-reported', note: `之后的报告(${laterDocIds.join('、')})没有提到这项承诺`, laterDocIds, evidence: [] });
      continue;
    }
    const checks = checkTargets(c, kept, options.tokenize);
    kept[0]!.checks = checks;
    const completed = kept.some((e) => e.result.completed && direct.has(e.result));
    const checked = checks.filter((k) => k.achieved);
    let status: FollowUp['status'];
    let note: string;
    if (checks.length > 0 && checked.length === checks.length && checked.every((k) => k.reached)) {
      status = 'met';
      note = `目标${checks.map((k) => describeTarget(k.target)).join('、')},报告完成${checks.map((k) => describeTarget(k.achieved!)).join('、')}`;
    } else if (checked.some((k) => k.reached === false)) {
      status = 'partly';
      const short = checked.filter((k) => k.reached === false);
      note = `目标${short.map((k) => describeTarget(k.target)).join('、')},报告为${short.map((k) => describeTarget(k.achieved!)).join('、')},未达到`;
    } else if (completed && checked.every((k) => k.reached)) {
      status = 'met';
      note = checks.length > checked.length ? '报告称已完成,但没有给出对应的数字' : '报告称已完成';
    } else {
      status = 'partly';
      note = checks.length > 0 ? '报告提到了进展,没有给出对照目标的数字' : '报告提到了进展,没有说已完成';
    }
    out.set(c.id, { commitmentId: c.id, status, note, laterDocIds, evidence: kept });
  }
  return out;
}
