/**
 * Extractive answers: the best sentences of the retrieved passages, quoted verbatim (numbers and
 * all), each followed by its [n] citation marker. Decides too whether the passages support an
 * answer at all: a wrong figure attributed to a government report is worse than no answer.
 */
import { idf } from '../index/lexical.js';
import { dot, type Retrieval, type SearchableIndex } from '../retrieve/hybrid.js';
import type { Passage } from '../types.js';
import type { AnswerReason, AnswerStatus } from './status.js';

export interface Citation extends Passage {
  n: number;
  /** Where the quoted sentence sits in the passage (offsets into the document, like start/end). */
  quote?: { start: number; end: number };
}

export interface Answer {
  answer: string;
  /** True exactly when status is `answered`. */
  found: boolean;
  status: AnswerStatus;
  /** Why the question was not answered (absent when answered). */
  reason?: AnswerReason;
  mode: 'extractive';
  citations: Citation[];
  /** Why the answer is what it is, for evaluation and logs (not part of the HTTP contract). */
  diagnostics: AnswerDiagnostics;
}

export interface AnswerDiagnostics {
  /** IDF-weighted share of the question's terms found in the chosen sentences, 0-1. */
  coverage: number;
  /** IDF-weighted share of the question's terms that the corpus has, but not for the town asked about. */
  missing: number;
  /** Best cosine similarity between question and a passage. */
  topDense: number;
  /** Cosine similarity between question and the best quoted sentence. */
  sentenceDense: number;
  /** Combined confidence compared against the threshold. */
  confidence: number;
  /** 'cached': served from the answer cache, whose entries keep only the public response. */
  reason: 'answered' | 'low-confidence' | 'unknown-place' | 'year-not-covered' | 'no-passages' | 'cached';
}

export interface ExtractiveOptions {
  /** Below this confidence the answer is `found: false`. Calibrated on the dev set (docs/benchmarks.md). */
  threshold: number;
  /** Passages whose sentences are considered. Default 5. */
  sentencePool?: number;
  /** Longest quoted sentence before it is cut to the clauses that matter. Default 160. */
  maxSentenceChars?: number;
}

/** A question that wants a figure: the chosen sentence should hold one. */
const ASKS_QUANTITY = /多少|几[个家条项亩次万人所]|比例|比率|率是|面积|金额|多大|多长|多高|规模/;
const HAS_FIGURE = /\d|[一二三四五六七八九十两百千万]+(个|家|条|项|亩|次|所|座|批|轮|件|起|名|人)/;
/** Words that say which kind of section to look in, not what to find there. */
const INTENT_WORDS = new Set(['计划', '打算', '目标', '完成', '实现', '今年', '去年', '明年', '全年', '上半年', '下半年', '上半', '半年', '年', '要', '还要', '将']);

/** The public reason of each internal one. */
const PUBLIC_REASON: Partial<Record<AnswerDiagnostics['reason'], AnswerReason>> = {
  'unknown-place': 'other-town',
  'year-not-covered': 'other-year',
  'no-passages': 'not-mentioned',
  'low-confidence': 'low-confidence',
};

interface Candidate {
  passageIndex: number;
  start: number;
  end: number;
  text: string;
  coverage: number;
  dense: number;
  score: number;
  matched: Set<string>;
}

/** Maps a cosine similarity of bge-small-zh (questions vs. report sentences: ~0.3 unrelated, ~0.8 the answer) to 0-1. */
function scaleDense(cosine: number): number {
  return Math.min(1, Math.max(0, (cosine - 0.35) / 0.45));
}

/**
 * Confidence that a sentence answers the question. Either signal may carry it: shared rare terms
 * backed by meaning (the report's own words), or closeness in meaning alone (a resident's
 * paraphrase: 煤气罐换成管道燃气 for 瓶改管), which must then be stronger.
 */
export function confidenceOf(coverage: number, sentenceDense: number): number {
  const dense = scaleDense(sentenceDense);
  return Math.max(0.45 * coverage + 0.55 * dense, 0.9 * dense);
}

export function composeExtractiveAnswer(searchable: SearchableIndex, retrieval: Retrieval, options: ExtractiveOptions): Answer {
  const { passages, analysis, ranked } = retrieval;
  const citations: Citation[] = passages.map((p, i) => ({ n: i + 1, ...p }));
  const topDense = ranked.slice(0, passages.length).reduce((m, e) => Math.max(m, e.dense), 0);
  const notFound = (reason: AnswerDiagnostics['reason'], answer: string, coverage = 0, confidence = 0, sentenceDense = 0, missing = 0): Answer => ({
    answer,
    found: false,
    status: 'not_found',
    reason: PUBLIC_REASON[reason] ?? 'low-confidence',
    mode: 'extractive',
    citations,
    diagnostics: { coverage, missing, topDense, sentenceDense, confidence, reason },
  });

  if (analysis.unknownPlace) {
    return notFound('unknown-place', `现有报告中没有关于${analysis.unknownPlace}的内容,无法回答这个问题。`);
  }
  if (passages.length === 0) return notFound('no-passages', '现有报告中没有找到与这个问题相关的内容。');

  const uncovered = uncoveredYears(searchable, analysis.towns, analysis.years);
  if (uncovered.length > 0) {
    const who = analysis.towns.length > 0 ? analysis.towns.join('、') : '现有';
    return notFound('year-not-covered', `${who}的报告不涉及${uncovered.join('、')}年,无法回答这个问题。`);
  }

  const { terms, weights, totalWeight, missing } = weighTerms(searchable, retrieval);
  const wantsNumber = ASKS_QUANTITY.test(retrieval.question);

  const pool = passages.slice(0, options.sentencePool ?? 5);
  const candidates: Candidate[] = [];
  const { index } = searchable;
  pool.forEach((passage, passageIndex) => {
    const doc = searchable.documents.get(passage.docId);
    const row = ranked[passageIndex]!.row;
    const chunk = index.chunks[row]!;
    if (!doc) return;
    chunk.sentences.forEach(([s, e], k) => {
      const text = doc.text.slice(s, e);
      // A bare heading (二、克难求进,经济发展保持稳健态势。) quotes nothing.
      if (text.length < 12 || passage.section.endsWith(text.replace(/[。;!?]$/, ''))) return;
      const tokens = searchable.sentenceTokens(row, k);
      const matched = new Set(terms.filter((t) => tokens.has(t)));
      const coverage = [...matched].reduce((a, t) => a + (weights.get(t) ?? 0), 0) / totalWeight;
      const dense = dot(retrieval.queryVector, index.sentenceEmbeddings[index.sentenceRows[row]! + k]!);
      let score = confidenceOf(coverage, dense) * (1 - 0.05 * passageIndex);
      // A question after a figure is not answered by a sentence without one.
      if (wantsNumber && !HAS_FIGURE.test(text)) score *= 0.7;
      candidates.push({ passageIndex, start: s, end: e, text, coverage, dense, score, matched });
    });
  });
  candidates.sort((a, b) => b.score - a.score || a.passageIndex - b.passageIndex || a.start - b.start);
  const best = candidates[0];
  if (!best) return notFound('no-passages', '现有报告中没有找到与这个问题相关的内容。');

  // A second sentence joins when it answers a part of the question the first one leaves open.
  const chosen = [best];
  const second = candidates.find(
    (c) => c !== best && [...c.matched].some((t) => !best.matched.has(t) && (weights.get(t) ?? 0) > 1) && c.score >= best.score * 0.6,
  );
  if (second) chosen.push(second);
  const covered = new Set(chosen.flatMap((c) => [...c.matched]));
  const coverage = [...covered].reduce((a, t) => a + (weights.get(t) ?? 0), 0) / totalWeight;
  const confidence = (wantsNumber && !HAS_FIGURE.test(best.text) ? 0.7 : 1) * confidenceOf(coverage, best.dense) - 0.8 * missing;
  if (confidence < options.threshold) {
    const who = analysis.towns.length > 0 ? `${analysis.towns.join('、')}的` : '现有';
    return notFound('low-confidence', `${who}报告中没有找到能回答这个问题的内容。以下是最接近的段落,供参考。`, coverage, confidence, best.dense, missing);
  }

  chosen.sort((a, b) => a.passageIndex - b.passageIndex || a.start - b.start);
  const maxChars = options.maxSentenceChars ?? 160;
  const parts = chosen.map((c) => {
    const quote = c.text.length > maxChars ? focusClauses(c.text, terms, maxChars, searchable) : c.text;
    return `${quote.replace(/[。;]$/, '')}[${c.passageIndex + 1}]`;
  });
  for (const c of chosen) citations[c.passageIndex]!.quote = { start: c.start, end: c.end };
  const lead = leadIn(citations[chosen[0]!.passageIndex]!);
  return {
    answer: `${lead}${parts.join(';')}。`,
    found: true,
    status: 'answered',
    mode: 'extractive',
    citations,
    diagnostics: { coverage, missing, topDense, sentenceDense: best.dense, confidence, reason: 'answered' },
  };
}

/**
 * Weighs the question's content terms by rarity (IDF). Town names, years and intent words say
 * where to look, not what to find; words the corpus never uses (a resident's paraphrase) weigh
 * nothing. `missing` is the weight of terms the corpus has, but not for the towns asked about:
 * 高标准农田 asked of a town whose reports never mention it.
 */
function weighTerms(searchable: SearchableIndex, retrieval: Retrieval) {
  const { keywords, chunks } = searchable.index;
  const townTokens = new Set(retrieval.analysis.towns.flatMap((t) => searchable.tokenizer.tokenize(t)));
  const tokens = [...new Set(retrieval.queryTokens)];
  const inCorpus = (t: string) => (keywords.postings[t]?.length ?? 0) > 0;
  const terms = tokens.filter((t) => !townTokens.has(t) && !/^\d{4}$/.test(t) && !INTENT_WORDS.has(t) && inCorpus(t));
  const weights = new Map(terms.map((t) => [t, idf(keywords, t)]));
  const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0) || 1;
  let missingWeight = 0;
  if (retrieval.scopeTowns.length > 0) {
    for (const t of terms) {
      // 百姓 inside the unknown word 老百姓 is a fragment of a paraphrase, not a missing subject.
      if (t.length < 2 || tokens.some((u) => u !== t && u.includes(t) && !inCorpus(u))) continue;
      const list = keywords.postings[t]!;
      let inScope = false;
      for (let i = 0; i < list.length && !inScope; i += 2) inScope = retrieval.scopeTowns.includes(chunks[list[i]!]!.town);
      if (!inScope) missingWeight += weights.get(t)!;
    }
  }
  return { terms, weights, totalWeight, missing: missingWeight / totalWeight };
}

/** Says where the quote comes from: 据牛塘镇2022年上半年工作回顾: */
function leadIn(citation: Citation): string {
  const part = citation.section.split(' > ')[0] ?? '';
  const label = /\d{4}年|[〇一二三四五六七八九]{4}年/.test(part) ? part.replace(/^[一二三四五六七八九十]+、/, '') : citation.role === 'plan' ? '工作计划' : citation.role === 'review' ? '工作回顾' : '';
  return `据${citation.town}${label ? `《${label}》` : '报告'}:`;
}

/** Cuts a long sentence to the run of clauses that holds most of the question's terms. */
function focusClauses(sentence: string, terms: string[], maxChars: number, searchable: SearchableIndex): string {
  const clauses = sentence.split(/(?<=[,,:])/);
  let best = { from: 0, to: 1, score: -1 };
  for (let from = 0; from < clauses.length; from++) {
    let text = '';
    for (let to = from; to < clauses.length; to++) {
      text += clauses[to]!;
      if (text.length > maxChars && to > from) break;
      const tokens = new Set(searchable.tokenizer.tokenize(text));
      const score = terms.filter((t) => tokens.has(t)).length - text.length / 1000;
      if (score > best.score) best = { from, to: to + 1, score };
    }
  }
  const text = clauses.slice(best.from, best.to).join('').replace(/[,,:]$/, '');
  return `${best.from > 0 ? '…' : ''}${text}${best.to < clauses.length ? '…' : ''}`;
}

/** Years named in the question that no report of the named towns covers or even mentions. */
function uncoveredYears(searchable: SearchableIndex, towns: string[], years: number[]): number[] {
  const docs = [...searchable.documents.values()].filter((d) => towns.length === 0 || towns.includes(d.meta.town));
  return years.filter((y) => !docs.some((d) => d.meta.years.includes(y) || d.text.includes(`${y}年`)));
}
