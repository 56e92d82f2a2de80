/**
 * Extractive answers: the best sentences of the retrieved passages, quoted verbatim (numbers and
 * all), each followed by its [n] citation marker. Decides too whether the passages support an
 * answer at all: a wrong figure attributed to a government report is worse than no answer.
 */
import { splitSentences } from '../corpus/chunk.js';
import { idf } from '../index/lexical.js';
import type { Retrieval, SearchableIndex } from '../retrieve/hybrid.js';
import type { Passage } from '../types.js';

export interface Citation extends Passage {
  n: number;
  /** Where the quoted sentence sits in the passage (offsets into the document, like start/end). */
  quote?: { start: number; end: number };
}

export interface Answer {
  answer: string;
  found: boolean;
  mode: 'extractive';
  citations: Citation[];
  /** Why the answer is what it is, for evaluation and logs (not part of the HTTP contract). */
  diagnostics: AnswerDiagnostics;
}

export interface AnswerDiagnostics {
  /** IDF-weighted share of the question's terms found in the chosen sentences, 0-1. */
  coverage: number;
  /** Best cosine similarity between question and a passage. */
  topDense: number;
  /** Combined confidence compared against the threshold. */
  confidence: number;
  reason: 'answered' | 'low-confidence' | 'unknown-place' | 'year-not-covered' | 'no-passages';
}

export interface ExtractiveOptions {
  /** Below this confidence the answer is `found: false`. Calibrated on the dev set (docs/benchmarks.md). */
  threshold: number;
  /** Passages whose sentences are considered. Default 3. */
  sentencePool?: number;
  /** Longest quoted sentence before it is cut to the clauses that matter. Default 160. */
  maxSentenceChars?: number;
}

/** A question that wants a figure: the chosen sentence should hold one. */
const ASKS_QUANTITY = /多少|几[个家条项亩次万人所]|比例|比率|率是|面积|金额|多大|多长|多高|规模/;

interface Candidate {
  passageIndex: number;
  start: number;
  end: number;
  text: string;
  coverage: number;
  score: number;
  matched: Set<string>;
}

/** Confidence: coverage of the question's terms and dense similarity, weighted. */
export function confidenceOf(coverage: number, topDense: number): number {
  return 0.5 * coverage + 0.5 * Math.max(0, (topDense - 0.3) / 0.5);
}

export function composeExtractiveAnswer(searchable: SearchableIndex, retrieval: Retrieval, options: ExtractiveOptions): Answer {
  const { passages, analysis, ranked } = retrieval;
  const citations: Citation[] = passages.map((p, i) => ({ n: i + 1, ...p }));
  const topDense = ranked.slice(0, passages.length).reduce((m, e) => Math.max(m, e.dense), 0);
  const notFound = (reason: AnswerDiagnostics['reason'], answer: string, coverage = 0, confidence = 0): Answer => ({
    answer,
    found: false,
    mode: 'extractive',
    citations,
    diagnostics: { coverage, topDense, confidence, reason },
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

  // Weigh question terms by rarity; town names and years say where to look, not what to find.
  const townTokens = new Set(analysis.towns.flatMap((t) => searchable.tokenizer.tokenize(t)));
  const terms = [...new Set(retrieval.queryTokens)].filter((t) => !townTokens.has(t) && !/^\d{4}$/.test(t) && t !== '年');
  const weights = new Map(terms.map((t) => [t, idf(searchable.index.keywords, t)]));
  const totalWeight = [...weights.values()].reduce((a, b) => a + b, 0) || 1;
  const wantsNumber = ASKS_QUANTITY.test(retrieval.question);

  const pool = passages.slice(0, options.sentencePool ?? 3);
  const candidates: Candidate[] = [];
  pool.forEach((passage, passageIndex) => {
    const doc = searchable.documents.get(passage.docId);
    if (!doc) return;
    for (const [s, e] of splitSentences(doc.text, passage.start, passage.end)) {
      const text = doc.text.slice(s, e);
      // A bare heading (二、克难求进,经济发展保持稳健态势。) quotes nothing.
      if (text.length < 12 || passage.section.endsWith(text.replace(/[。;!?]$/, ''))) continue;
      const tokens = new Set(searchable.tokenizer.tokenize(text));
      const matched = new Set(terms.filter((t) => tokens.has(t)));
      const coverage = [...matched].reduce((a, t) => a + (weights.get(t) ?? 0), 0) / totalWeight;
      let score = coverage * (1 - 0.08 * passageIndex);
      if (wantsNumber && /\d/.test(text)) score += 0.1;
      candidates.push({ passageIndex, start: s, end: e, text, coverage, score, matched });
    }
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
  const confidence = confidenceOf(coverage, topDense);
  if (confidence < options.threshold) {
    const who = analysis.towns.length > 0 ? `${analysis.towns.join('、')}的` : '现有';
    return notFound('low-confidence', `${who}报告中没有找到能回答这个问题的内容。以下是最接近的段落,供参考。`, coverage, confidence);
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
    mode: 'extractive',
    citations,
    diagnostics: { coverage, topDense, confidence, reason: 'answered' },
  };
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
