/**
 * Extractive answers: the best sentences of the retrieved passages, quoted verbatim (numbers and
 * all), each followed by its [n] citation marker. Decides too whether the passages support an
 * answer at all: a wrong figure attributed to a government report is worse than no answer.
 *
 * Each sentence of the best passages is a candidate. Explicit checks compare the question's
 * annotation (src/annotate/question.ts) with the sentence's, stored at ingest: the period, plan
 * or result, and for a figure question a figure of the asked kind for the asked indicator. A
 * learned model (decision.ts, fitted by `npm run calibrate`) gives each candidate a probability
 * of answering. The best agreeing candidate answers when it is probable enough; otherwise a
 * probable candidate that contradicts a check is shown with the reason (`partial`), else
 * nothing is claimed (`not_found`). `decide` is that choice, pure, so the evaluation can
 * re-run it with the weights of another fold.
 *
 * Synchronous and store-free: everything read about the passages (sentence annotations, tokens and
 * similarities, term statistics) arrives with the Retrieval; the context gives documents, towns
 * and their facts, and the tokenizer.
 */

/** What the composer reads of the index context (all in memory). */
export type ComposerIndex = Pick<IndexContext, 'documents' | 'towns' | 'townFacts' | 'tokenizer'>;
import type { QuestionAnnotation, Topic } from '../annotate/question.js';
import { stanceOfClause, type Figure, type SentenceAnnotation } from '../annotate/sentence.js';
import { chunkText, type IndexContext } from '../retrieve/context.js';
import type { Retrieval } from '../retrieve/hybrid.js';
import type { Answer as ContractAnswer, AnswerReason, Citation, CoreDiagnostics } from '../domain/answer.js';
import { ROLE_LABELS } from '../domain/labels.js';
import type { Role } from '../domain/types.js';
import { probability, type DecisionModel, type Features } from './decision.js';

/** The composer's answer: the contract's, with the diagnostics below. */
export type Answer = ContractAnswer<AnswerDiagnostics>;

/** The checks a candidate can fail, named by the reason a refusal gives. */
export type FailedCheck = 'other-year' | 'plan-only' | 'result-only' | 'no-figure';

/** What the evaluation needs of a candidate to re-decide with other weights. */
export interface CandidateRecord {
  features: Features;
  failed: FailedCheck[];
  text: string;
  town: string;
  passageIndex: number;
  hasDeadline: boolean;
  /**
   * How specific (0-1) the most specific noun of the question is that the asked towns' reports
   * never use and of which this sentence holds not one character (护照 asked, 一网通办 offered).
   */
  unheldTopic: number;
}

/** The core diagnostics (domain/answer.ts) and what the composer weighed. */
export interface AnswerDiagnostics extends CoreDiagnostics {
  /** The candidates weighed (in-scope), for the evaluation's out-of-fold re-decision. */
  candidates?: CandidateRecord[];
  /** Candidates from other towns' reports, when the other-town probe ran. */
  probes?: CandidateRecord[];
  /** The question as annotated. */
  question?: QuestionAnnotation;
}

export interface ExtractiveOptions {
  /** The answer/abstain model (decision-weights.json). */
  model: DecisionModel;
  /** Overrides the model's probability threshold. */
  threshold?: number;
  /** Passages whose sentences are considered. Default 5. */
  sentencePool?: number;
  /** Longest quoted sentence before it is cut to the clauses that matter. Default 160. */
  maxSentenceChars?: number;
}

/** Words that say which kind of section to look in, not what to find there. */
const INTENT_WORDS = new Set(['计划', '打算', '目标', '完成', '实现', '今年', '去年', '明年', '全年', '上半年', '下半年', '上半', '半年', '年', '要', '还要', '将', '现在', '目前', '现阶段', '需要', '数量', '情况', '程度', '变化', '具体', '主要', '达到', '多少', '哪些']);

/** A candidate sentence with everything the decision reads. */
export interface Candidate extends CandidateRecord {
  chunkId: string;
  k: number;
  start: number;
  end: number;
  annotation: SentenceAnnotation;
  matched: Set<string>;
  /** The figure that answers a figure question, when there is one. */
  figure?: Figure;
  p: number;
}

/** What `decide` chose: candidates to quote, or a refusal with a reason (and what to show). */
export type Decision =
  | { kind: 'answer'; chosen: number[]; p: number }
  | { kind: 'partial'; reason: FailedCheck | 'other-town'; shown: number; p: number }
  | { kind: 'not_found'; reason: 'not-mentioned' | 'low-confidence'; p: number };

/**
 * The choice among candidates (pure): the most probable candidate that passes every check
 * answers when its probability reaches the threshold (a deadline question prefers one naming a
 * deadline); a second joins when it covers what the first leaves open. Else the most probable
 * candidate that fails fewest checks is shown with why it does not answer. Else not found.
 * `probes` are candidates from other towns' reports: shown (other-town) when one would answer.
 */
export function decide(
  candidates: readonly CandidateRecord[],
  probabilityOf: (c: CandidateRecord) => number,
  threshold: number,
  options: { deadline?: boolean; probes?: readonly CandidateRecord[]; towns?: readonly string[] } = {},
): Decision {
  const p = candidates.map(probabilityOf);
  const order = candidates.map((_, i) => i).sort((a, b) => p[b]! - p[a]! || candidates[a]!.passageIndex - candidates[b]!.passageIndex);
  const agreeing = order.filter((i) => candidates[i]!.failed.length === 0);
  let best = agreeing[0];
  if (options.deadline) {
    const dated = agreeing.find((i) => candidates[i]!.hasDeadline && p[i]! >= threshold);
    if (dated !== undefined) best = dated;
  }
  const probes = options.probes ?? [];
  const pp = probes.map(probabilityOf);
  // The question's subject is a noun the asked town's report never uses, the best sentence holds
  // not a character of it and is no closer in meaning than the other candidates: whatever it
  // says, it is not about what was asked (护照 asked, 一网通办 offered).
  if (best !== undefined && p[best]! >= threshold && candidates[best]!.unheldTopic >= UNHELD_TOPIC && candidates[best]!.features.denseGap <= 0) {
    return { kind: 'not_found', reason: 'not-mentioned', p: p[best]! };
  }
  if (best !== undefined && p[best]! >= threshold) {
    // Another town's report answers it far more closely (it has the question's words the asked
    // town's lacks): the asked town's best sentence is about something else.
    const rival = probes.findIndex((r, i) => r.failed.length === 0 && pp[i]! >= threshold && pp[i]! >= p[best!]! + RIVAL_P && r.features.coverageKnown >= candidates[best!]!.features.coverageKnown + OTHER_TOWN_MARGIN);
    if (rival >= 0) return { kind: 'partial', reason: 'other-town', shown: candidates.length + rival, p: pp[rival]! };
    const chosen = [best];
    const second = agreeing.find((i) => i !== best && p[i]! >= Math.max(threshold, p[best]! * 0.75) && candidates[i]!.text !== candidates[best]!.text && addsCoverage(candidates[best]!, candidates[i]!));
    if (second !== undefined) chosen.push(second);
    // A question about several towns gets each town's best sentence, when it answers too.
    for (const town of options.towns ?? []) {
      if (chosen.some((i) => candidates[i]!.town === town)) continue;
      const own = agreeing.find((i) => candidates[i]!.town === town && p[i]! >= threshold);
      if (own !== undefined) chosen.push(own);
    }
    return { kind: 'answer', chosen, p: p[best]! };
  }
  // What the reports hold for the period asked (its target only) says more than another year's figure.
  const severity = (c: CandidateRecord) => c.failed.length + (c.failed.includes('other-year') ? 0.5 : 0);
  const contradicting = order.filter((i) => candidates[i]!.failed.length > 0 && p[i]! >= threshold).sort((a, b) => severity(candidates[a]!) - severity(candidates[b]!) || p[b]! - p[a]!);
  if (contradicting.length > 0) {
    const i = contradicting[0]!;
    return { kind: 'partial', reason: candidates[i]!.failed[0]!, shown: i, p: p[i]! };
  }
  const probe = probes.map((_, i) => i).filter((i) => probes[i]!.failed.length === 0 && pp[i]! >= threshold).sort((a, b) => pp[b]! - pp[a]!)[0];
  if (probe !== undefined) return { kind: 'partial', reason: 'other-town', shown: candidates.length + probe, p: pp[probe]! };
  const top = order[0] !== undefined ? p[order[0]]! : 0;
  const foreign = order[0] !== undefined && candidates[order[0]]!.unheldTopic >= UNHELD_TOPIC;
  return { kind: 'not_found', reason: top < threshold * 0.6 || foreign ? 'not-mentioned' : 'low-confidence', p: top };
}

/**
 * How much more of the question (IDF-weighted share of its known words) another town's sentence
 * must cover to outweigh the asked town's best one. Chosen by 5-fold cross-validation on the bank
 * among 0.1-0.6 (docs/benchmarks.md).
 */
const OTHER_TOWN_MARGIN = 0.4;
/**
 * How specific a noun the town's report lacks must be (jieba's general IDF / 12; 0.75 is about 9:
 * 护照, 高铁, not 时候 or 地方) for the not-mentioned check. Out-of-fold figures on the bank were
 * the same for every value in 0.6-0.8 (docs/benchmarks.md); 0.75 is the middle.
 */
const UNHELD_TOPIC = 0.75;
/** …and be at least as probable an answer. */
const RIVAL_P = 0;

/** A second sentence adds to the first when it holds more of the question's terms than it. */
function addsCoverage(first: CandidateRecord, second: CandidateRecord): boolean {
  return second.features.coverageAll > 0 && second.features.coverageAll + first.features.coverageAll > 1.05 && Math.abs(second.features.coverageAll - first.features.coverageAll) < 0.5;
}

/** Character bigrams of the Chinese runs of a text. */
function bigrams(text: string): Set<string> {
  const out = new Set<string>();
  for (const run of text.match(/[\u4e00-\u9fff]+/g) ?? []) for (let i = 0; i + 1 < run.length; i++) out.add(run.slice(i, i + 2));
  return out;
}

/** Share of `needle`'s bigrams found in `hay`. */
function bigramShare(needle: Set<string>, hay: string): number {
  if (needle.size === 0) return 0;
  let hit = 0;
  for (const b of needle) if (hay.includes(b)) hit++;
  return hit / needle.size;
}

/**
 * Measure words that count different things: a question for 多少名 (people) is not answered by
 * 11个部门, nor 多少家 (enterprises) by 40个项目. 个 counts anything.
 */
const MEASURE_GROUPS: string[][] = [
  ['人', '名', '位', '人次', '万人', '余人', '万人次'],
  ['家', '家次'],
  ['户', '户次', '万户'],
  ['套', '间', '栋', '幢'],
  ['座', '处'],
  ['张', '床'],
];

/** Does a figure have the kind asked for? A generic 多少 takes any figure but a date. */
function kindFits(figure: Figure, asks: NonNullable<QuestionAnnotation['asks']>): boolean {
  if (asks.kind === 'figure') return figure.kind !== 'date' && figure.kind !== 'duration';
  if (figure.kind !== asks.kind) return false;
  if (asks.kind === 'count' && asks.measure) {
    // 多少个 counts anything; another measure word names what is counted.
    if (asks.measure === '个') return true;
    // Measure words outside these groups (条, 起, 次 …) are used loosely: 几条船 for 53艘.
    const group = MEASURE_GROUPS.find((g) => g.includes(asks.measure!));
    if (group) return group.some((u) => figure.unit.endsWith(u));
  }
  return true;
}

/** The checks of one sentence against the question; an empty list when it agrees. */
export function checkCandidate(question: QuestionAnnotation, annotation: SentenceAnnotation, indicator: Set<string>, text: string, role: Role): { failed: FailedCheck[]; figure?: Figure } {
  const failed: FailedCheck[] = [];
  const years = question.period.years;
  const own = annotation.period.years;
  if (years.length > 0 && own.length > 0 && !own.some((y) => years.includes(y))) failed.push('other-year');
  // 全年 asked of a half-year report is another period, as 上半年 asked of a plan for 下半年.
  else if (question.period.half && annotation.period.half && question.period.half !== annotation.period.half) failed.push('other-year');
  let figure: Figure | undefined;
  if (question.asks) {
    const fitting = annotation.figures.filter((f) => kindFits(f, question.asks!));
    // The figure of the asked indicator: the one whose own phrase (then clause) shares most with it.
    figure = fitting
      .map((f) => ({ f, score: bigramShare(indicator, f.indicator) * 2 + bigramShare(indicator, f.clause) + (question.asks!.measure && f.unit.includes(question.asks!.measure) ? 0.5 : 0) }))
      .sort((a, b) => b.score - a.score)[0]?.f;
    // The indicator asked about sits in a clause of its own without a figure (新建一批充电桩,
    // 新增停车位300个): that figure is another indicator's.
    if (figure) {
      const best = bestClause(text, indicator);
      if (indicator.size >= 4 && best.score >= 0.5 && bigramShare(indicator, figure.clause) < 0.1 && !best.clause.includes(figure.text)) figure = undefined;
    }
    if (!figure) failed.push('no-figure');
  } else if (question.deadline) {
    figure = annotation.figures.filter((f) => f.kind === 'date').sort((a, b) => bigramShare(indicator, b.clause) - bigramShare(indicator, a.clause))[0];
  }
  // The stance of the statement the question is about: its figure's clause, else the clause
  // sharing most with the question (a sentence may open with a review and go on to plan).
  const stance = figure?.stance ?? stanceOfClause(clauseUpToBest(text, indicator), role);
  if (question.stance === 'outcome' && stance === 'target') failed.push('plan-only');
  if (question.stance === 'target' && stance !== 'target') failed.push('result-only');
  return { failed, ...(figure ? { figure } : {}) };
}

/** The clause of a sentence that shares most of the question's bigrams. */
function bestClause(text: string, indicator: Set<string>): { clause: string; score: number } {
  let best = { clause: text, score: -1 };
  for (const clause of text.split(/[,,;;。]/)) {
    const score = bigramShare(indicator, clause);
    if (score > best.score) best = { clause, score };
  }
  return best;
}

/** The sentence up to the end of the clause that shares most of the question's bigrams. */
function clauseUpToBest(text: string, indicator: Set<string>): string {
  const parts = text.split(/(?<=[,,;;])/);
  let best = { score: -1, end: parts[0]?.length ?? text.length };
  let at = 0;
  for (const part of parts) {
    at += part.length;
    const score = bigramShare(indicator, part);
    if (score > best.score) best = { score, end: at };
  }
  return text.slice(0, best.end);
}

/** Maps a internal refusal onto the public reason. */
const PUBLIC_REASON: Partial<Record<AnswerDiagnostics['reason'], AnswerReason>> = {
  'unknown-place': 'other-town',
  'year-not-covered': 'other-year',
  'no-passages': 'not-mentioned',
  'not-mentioned': 'not-mentioned',
  'low-confidence': 'low-confidence',
};

/**
 * The candidates of a retrieval: each sentence of the best passages with its features, checks
 * and probability. `onlyTowns` keeps the passages of those towns (the other-town probe).
 */
export function candidatesOf(index: ComposerIndex, retrieval: Retrieval, question: QuestionAnnotation, model: DecisionModel, options: { sentencePool?: number; excludeTowns?: readonly string[] } = {}): Candidate[] {
  const { passages, ranked } = retrieval;
  const { terms, weights, totalWeight, missing } = weighTerms(index, retrieval);
  const stats = retrieval.terms;
  const indicator = bigrams(question.indicator);
  const poolSize = options.sentencePool ?? 5;
  const pool: number[] = [];
  for (let i = 0; i < passages.length && pool.length < poolSize; i++) if (!options.excludeTowns?.includes(passages[i]!.town)) pool.push(i);
  // A question about several towns weighs the best passages of each.
  for (const town of question.towns.length > 1 ? question.towns : []) {
    const own = passages.map((p, i) => (p.town === town ? i : -1)).filter((i) => i >= 0 && !pool.includes(i)).slice(0, Math.max(0, 2 - pool.filter((i) => passages[i]!.town === town).length));
    pool.push(...own);
  }
  const maxBm25 = Math.max(1e-9, ...pool.map((i) => ranked[i]!.bm25));
  // The question's terms the corpus knows (loop-invariant: once per question, not per sentence).
  const known = terms.filter((t) => stats.known(t));
  const knownWeight = known.reduce((a, t) => a + weights.get(t)!, 0) || 1;
  const maxKnownWeight = Math.max(1e-9, ...known.map((t) => weights.get(t)!));
  const rarest = question.asks ? known.filter((t) => t.length >= 2).sort((a, b) => weights.get(b)! - weights.get(a)!)[0] : undefined;
  const rarestMissing = rarest && retrieval.scopeTowns.length > 0 && !stats.inTowns(rarest, retrieval.scopeTowns) ? rarest : undefined;
  const missingNouns = retrieval.scopeTowns.length > 0 ? missingTopics(index, retrieval, retrieval.topics, retrieval.scopeTowns) : [];
  const candidates: Candidate[] = [];
  for (const passageIndex of pool) {
    const passage = passages[passageIndex]!;
    const doc = index.documents.get(passage.docId);
    const scored = ranked[passageIndex]!;
    const chunk = scored.chunk;
    const evidence = scored.sentences;
    if (!doc || !evidence) continue;
    chunk.sentences.forEach(([s, e], k) => {
      const text = chunkText(chunk, s, e);
      // A bare heading (二、克难求进,经济发展保持稳健态势。) quotes nothing.
      if (text.length < 8 || passage.section.endsWith(text.replace(/[。;!?]$/, ''))) return;
      // A lead-in to a list (本年度重点做好以下四方面工作:) announces an answer without giving one.
      if (/[::]\s*$/.test(text)) return;
      const annotation = evidence.annotations[k]!;
      const tokens = new Set(evidence.tokens[k]);
      const matched = new Set(terms.filter((t) => tokens.has(t)));
      const matchedWeight = [...matched].reduce((a, t) => a + (weights.get(t) ?? 0), 0);
      const dense = scored.sentenceScores[k]!;
      const { failed, figure } = checkCandidate(question, annotation, indicator, text, chunk.role);
      const features: Features = {
        coverageAll: matchedWeight / totalWeight,
        coverageKnown: matchedWeight / knownWeight,
        bigramCoverage: bigramShare(indicator, text),
        indicatorOverlap: figure ? bigramShare(indicator, figure.clause) : bigramShare(indicator, text),
        sentenceDense: dense,
        passageDense: scored.dense,
        denseGap: 0,
        rankInverse: 1 / (1 + passageIndex),
        bm25Relative: scored.bm25 / maxBm25,
        missing,
        asksFigure: question.asks ? 1 : 0,
        figureIndicator: figure ? bigramShare(indicator, figure.indicator) : 0,
        deadlineMatch: question.deadline && annotation.figures.some((f) => f.kind === 'date') ? 1 : 0,
        lengthLog: Math.log(text.length) / 5,
        // The rarest of the question's known terms the sentence lacks (瞪羚企业 asked, 企业 found).
        unmatchedRare: known.filter((t) => !matched.has(t)).reduce((m, t) => Math.max(m, weights.get(t)!), 0) / maxKnownWeight,
        topDense: 0,
        topCoverage: 0,
        // A figure question's rarest word (三高一低, 瞪羚企业) that the reports of the towns asked
        // about never use, while another town's do: likely another indicator's figure.
        rarestMissing: figure && rarestMissing && !text.includes(rarestMissing) ? 1 : 0,
      };
      candidates.push({ chunkId: chunk.id, k, start: s, end: e, text, town: passage.town, passageIndex, annotation, matched, failed, features, hasDeadline: annotation.figures.some((f) => f.kind === 'date'), unheldTopic: unheldTopic(missingNouns, text), p: 0, ...(figure ? { figure } : {}) });
    });
  }
  const denses = candidates.map((c) => c.features.sentenceDense);
  const maxCoverage = Math.max(0, ...candidates.map((c) => c.features.coverageKnown));
  for (const [i, c] of candidates.entries()) {
    const others = denses.filter((_, j) => j !== i);
    c.features.denseGap = others.length > 0 ? c.features.sentenceDense - Math.max(...others) : 0;
    // Being the closest sentence, or the one sharing most words, of the question's candidates.
    c.features.topDense = c.features.denseGap >= 0 ? 1 : 0;
    c.features.topCoverage = c.features.coverageKnown > 0 && c.features.coverageKnown >= maxCoverage ? 1 : 0;
    c.p = probability(model, c.features);
  }
  return candidates;
}

/** Strips a candidate to what the evaluation keeps. */
export function recordOf(c: Candidate): CandidateRecord {
  return { features: c.features, failed: c.failed, text: c.text, town: c.town, passageIndex: c.passageIndex, hasDeadline: c.hasDeadline, unheldTopic: c.unheldTopic };
}

/**
 * The question's annotation and its candidates from one retrieval, or the refusal the retrieval
 * alone decides (a place no report covers, no passages, years no report covers).
 */
export type Prepared = { refusal: Answer } | { question: QuestionAnnotation; candidates: Candidate[] };

export interface ComposeContext {
  /** Candidates from other towns' reports (the other-town probe), when the service ran one. */
  probes?: Candidate[];
  /** This retrieval's prepareAnswer, when the caller needed it first (for the probe). */
  prepared?: Prepared;
}

/** A not-found answer citing the retrieval's passages. */
function notFoundAnswer(retrieval: Retrieval, question: QuestionAnnotation, reason: AnswerDiagnostics['reason'], answer: string, extra: Partial<AnswerDiagnostics> = {}): Answer {
  return {
    answer,
    found: false,
    status: 'not_found',
    reason: PUBLIC_REASON[reason] ?? 'low-confidence',
    mode: 'extractive',
    citations: citationsOf(retrieval),
    diagnostics: { coverage: 0, missing: 0, topDense: topDenseOf(retrieval), sentenceDense: 0, confidence: 0, reason, question, ...extra },
  };
}

function citationsOf(retrieval: Retrieval): Citation[] {
  return retrieval.passages.map((p, i) => ({ n: i + 1, ...p }));
}

function topDenseOf({ ranked, passages }: Retrieval): number {
  return ranked.slice(0, passages.length).reduce((m, e) => Math.max(m, e.dense), 0);
}

export function prepareAnswer(index: ComposerIndex, retrieval: Retrieval, options: ExtractiveOptions): Prepared {
  const { passages, analysis } = retrieval;
  const question = retrieval.annotation;
  if (analysis.unknownPlace) {
    return { refusal: notFoundAnswer(retrieval, question, 'unknown-place', `现有报告中没有关于${analysis.unknownPlace}的内容,无法回答这个问题。`) };
  }
  if (passages.length === 0) return { refusal: notFoundAnswer(retrieval, question, 'no-passages', '现有报告中没有找到与这个问题相关的内容。') };
  const uncovered = uncoveredYears(index, analysis.towns, analysis.years);
  if (uncovered.length > 0) {
    const who = analysis.towns.length > 0 ? analysis.towns.join('、') : '现有';
    return { refusal: notFoundAnswer(retrieval, question, 'year-not-covered', `${who}的报告不涉及${uncovered.join('、')}年,无法回答这个问题。`) };
  }
  return { question, candidates: candidatesOf(index, retrieval, question, options.model, { ...(options.sentencePool ? { sentencePool: options.sentencePool } : {}) }) };
}

export function composeExtractiveAnswer(index: ComposerIndex, retrieval: Retrieval, options: ExtractiveOptions, context: ComposeContext = {}): Answer {
  const prepared = context.prepared ?? prepareAnswer(index, retrieval, options);
  if ('refusal' in prepared) return prepared.refusal;
  const { question, candidates } = prepared;
  const { analysis } = retrieval;
  const citations = citationsOf(retrieval);
  const topDense = topDenseOf(retrieval);
  const threshold = options.threshold ?? options.model.threshold;

  const probes = context.probes ?? [];
  const all = [...candidates, ...probes];
  const decision = decide(candidates, (c) => (c as Candidate).p, threshold, { deadline: question.deadline, probes, ...(analysis.towns.length > 1 ? { towns: analysis.towns } : {}) });
  const records = candidates.map(recordOf);
  const probeRecords = context.probes ? { probes: context.probes.map(recordOf) } : {};
  const who = analysis.towns.length > 0 ? `${analysis.towns.join('、')}的` : '现有';
  const maxChars = options.maxSentenceChars ?? 160;
  const { terms } = weighTerms(index, retrieval);
  const quoteOf = (c: Candidate) => (c.text.length > maxChars ? focusClauses(c.text, terms, maxChars, index) : c.text).replace(/[。;]$/, '');

  if (decision.kind === 'not_found') {
    const best = [...candidates].sort((a, b) => b.p - a.p)[0];
    const text = decision.reason === 'not-mentioned' ? `${who}报告中没有提到这方面的内容。以下是最接近的段落,供参考。` : `${who}报告中没有找到能回答这个问题的内容。以下是最接近的段落,供参考。`;
    return notFoundAnswer(retrieval, question, decision.reason, text, { confidence: decision.p, sentenceDense: best?.features.sentenceDense ?? 0, coverage: best?.features.coverageAll ?? 0, candidates: records, ...probeRecords });
  }

  if (decision.kind === 'partial' && decision.shown >= candidates.length) {
    // Another town's report answers it: say which, but quote nothing from it (a drafter would
    // copy the other town's figure as this town's).
    const c = all[decision.shown]!;
    return {
      ...notFoundAnswer(retrieval, question, 'not-mentioned', partialText('other-town', question, c, '', 0, who), { confidence: decision.p, candidates: records, ...probeRecords }),
      reason: 'other-town',
    };
  }

  if (decision.kind === 'partial') {
    const c = all[decision.shown]!;
    const n = c.passageIndex + 1;
    const shownCitations = citations;
    shownCitations[n - 1] = { ...shownCitations[n - 1]!, quote: { start: c.start, end: c.end } };
    const text = partialText(decision.reason, question, c, quoteOf(c), n, who);
    return {
      answer: text,
      found: false,
      status: 'partial',
      reason: decision.reason,
      mode: 'extractive',
      citations: shownCitations,
      diagnostics: { coverage: c.features.coverageAll, missing: c.features.missing, topDense, sentenceDense: c.features.sentenceDense, confidence: decision.p, reason: 'partial', candidates: records, ...probeRecords, question },
    };
  }

  const chosen = decision.chosen.map((i) => candidates[i]!).sort((a, b) => a.passageIndex - b.passageIndex || a.start - b.start);
  for (const c of chosen) citations[c.passageIndex]!.quote = { start: c.start, end: c.end };
  // One lead-in per source town: a quote from another town's report is never introduced by the first.
  const parts: string[] = [];
  let lastTown: string | undefined;
  for (const c of chosen) {
    const quote = `${quoteOf(c)}[${c.passageIndex + 1}]`;
    if (c.town !== lastTown) parts.push(`${leadIn(citations[c.passageIndex]!)}${quote}`);
    else parts[parts.length - 1] += `;${quote}`;
    lastTown = c.town;
  }
  const best = candidates[decision.chosen[0]!]!;
  return {
    answer: `${parts.join(';')}。`,
    found: true,
    status: 'answered',
    mode: 'extractive',
    citations,
    diagnostics: { coverage: best.features.coverageAll, missing: best.features.missing, topDense, sentenceDense: best.features.sentenceDense, confidence: decision.p, reason: 'answered', candidates: records, ...probeRecords, question },
  };
}

/** The one plain sentence of a partial answer: what the report holds, and what it leaves open. */
function partialText(reason: FailedCheck | 'other-town', question: QuestionAnnotation, c: Candidate, quote: string, n: number, who: string): string {
  const halfLabel = (h: string | undefined) => (h === 'first' ? '上半年' : h === 'second' ? '下半年' : '');
  const years = c.annotation.period.years;
  const when = years.length > 0 ? `${years.join('、')}年${halfLabel(c.annotation.period.half)}` : halfLabel(c.annotation.period.half);
  const asked = question.period.years.length > 0 ? `${question.period.years.join('、')}年${halfLabel(question.period.half)}` : halfLabel(question.period.half);
  const town = c.town;
  switch (reason) {
    case 'plan-only':
      return `${town}${when}的报告只给出${when}的目标:${quote}[${n}];没有完成情况。`;
    case 'result-only':
      return `${town}的报告只给出${when}的${c.annotation.stance === 'estimate' ? '预计完成情况' : '完成情况'}:${quote}[${n}];没有${asked || '所问时期'}的目标。`;
    case 'other-year':
      return `${town}的报告没有${asked || '所问时期'}的这项内容,只有${when || '其他时期'}的:${quote}[${n}]。`;
    case 'no-figure':
      return `${town}的报告提到:${quote}[${n}];但没有给出所问的数字。`;
    case 'other-town':
      return `${who}报告中没有找到这项内容;${town}的报告中有相关内容。`;
  }
}

/**
 * Weighs the question's content terms by rarity (IDF). Town names, years and intent words say
 * where to look, not what to find. A word the corpus never uses (a resident's paraphrase) still
 * counts in `totalWeight`, at the mean weight, so a preamble sharing one common word does not
 * cover the question. `missing` is the weight of terms the corpus has, but not for the towns
 * asked about (高标准农田 asked of a town whose reports never mention it); the decision model
 * weighs it against the other signals rather than subtracting it.
 */
function weighTerms(index: ComposerIndex, retrieval: Retrieval) {
  const stats = retrieval.terms;
  const townTokens = new Set(retrieval.analysis.towns.flatMap((t) => index.tokenizer.tokenize(t)));
  const tokens = [...new Set(retrieval.queryTokens)];
  const terms = tokens.filter((t) => !townTokens.has(t) && !/^\d{4}$/.test(t) && !/^\d+$/.test(t) && !INTENT_WORDS.has(t));
  const knownTerms = terms.filter((t) => stats.known(t));
  const weights = new Map(knownTerms.map((t) => [t, stats.idf(t)]));
  const mean = knownTerms.length > 0 ? [...weights.values()].reduce((a, b) => a + b, 0) / knownTerms.length : 1;
  for (const t of terms) if (!weights.has(t)) weights.set(t, mean * 0.5);
  const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0) || 1;
  let missingWeight = 0;
  if (retrieval.scopeTowns.length > 0) {
    for (const t of knownTerms) {
      // 百姓 inside the unknown word 老百姓 is a fragment of a paraphrase, not a missing subject.
      if (t.length < 2 || tokens.some((u) => u !== t && u.includes(t) && !stats.known(u))) continue;
      if (!stats.inTowns(t, retrieval.scopeTowns)) missingWeight += weights.get(t)!;
    }
  }
  return { terms, weights, totalWeight, missing: missingWeight / totalWeight };
}

/**
 * The question's nouns that the asked towns' reports never use, neither whole nor in all of its
 * parts: 护照 or 游泳馆 asked of a town whose report has neither (for the not-mentioned check).
 */
function missingTopics(index: ComposerIndex, retrieval: Retrieval, topics: readonly Topic[], towns: readonly string[]): Topic[] {
  const { terms } = retrieval;
  return topics.filter(({ word }) => {
    if (terms.inTowns(word, towns)) return false;
    const parts = index.tokenizer.tokenize(word).filter((t) => t.length >= 2 && t !== word);
    return !(parts.length > 0 && parts.every((t) => terms.inTowns(t, towns)));
  });
}

/** The most specific (0-1) of the missing nouns of which a sentence holds not even one character. */
function unheldTopic(missing: readonly Topic[], text: string): number {
  return missing.filter((t) => ![...t.word].some((ch) => text.includes(ch))).reduce((m, t) => Math.max(m, Math.min(1, t.specificity / 12)), 0);
}

/** Says where the quote comes from: 据牛塘镇2022年上半年工作回顾: */
function leadIn(citation: Citation): string {
  const part = citation.section.split(' > ')[0] ?? '';
  const label = /\d{4}年|[〇一二三四五六七八九]{4}年/.test(part) ? part.replace(/^[一二三四五六七八九十]+、/, '') : citation.role === 'other' ? '' : ROLE_LABELS[citation.role];
  return `据${citation.town}${label ? `《${label}》` : '报告'}:`;
}

/** Cuts a long sentence to the run of clauses that holds most of the question's terms. */
function focusClauses(sentence: string, terms: string[], maxChars: number, index: ComposerIndex): string {
  const clauses = sentence.split(/(?<=[,,:])/);
  let best = { from: 0, to: 1, score: -1 };
  for (let from = 0; from < clauses.length; from++) {
    let text = '';
    for (let to = from; to < clauses.length; to++) {
      text += clauses[to]!;
      if (text.length > maxChars && to > from) break;
      const tokens = new Set(index.tokenizer.tokenize(text));
      const score = terms.filter((t) => tokens.has(t)).length - text.length / 1000;
      if (score > best.score) best = { from, to: to + 1, score };
    }
  }
  const text = clauses.slice(best.from, best.to).join('').replace(/[,,:]$/, '');
  return `${best.from > 0 ? '…' : ''}${text}${best.to < clauses.length ? '…' : ''}`;
}

/** Years named in the question that no report of the named towns covers or even mentions. */
function uncoveredYears(index: ComposerIndex, towns: string[], years: number[]): number[] {
  const yearsOf = (t: string) => index.townFacts.get(t)?.years ?? [];
  return years.filter((y) => !(towns.length === 0 ? [...index.townFacts.values()].map((f) => f.years) : towns.map(yearsOf)).some((ys) => ys.includes(y)));
}
