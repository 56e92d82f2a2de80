/** BM25 keyword index over pre-tokenised passages. Plain data in and out, so it serialises as JSON. */

export interface KeywordIndexData {
  /** term -> postings as flat [docIndex, termFrequency, docIndex, termFrequency, …]. */
  postings: Record<string, number[]>;
  docLengths: number[];
  averageLength: number;
}

export interface ScoredIndex {
  index: number;
  score: number;
}

/** BM25 parameters: k1 saturates term frequency, b normalises by passage length. */
const K1 = 1.2;
const B = 0.75;

export function buildKeywordIndex(documents: readonly string[][]): KeywordIndexData {
  const postings: Record<string, number[]> = Object.create(null);
  documents.forEach((tokens, doc) => {
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [term, count] of tf) (postings[term] ??= []).push(doc, count);
  });
  const docLengths = documents.map((d) => d.length);
  const total = docLengths.reduce((a, b) => a + b, 0);
  return { postings, docLengths, averageLength: documents.length ? total / documents.length : 0 };
}

/**
 * A term's postings. Own properties only: an index read back with JSON.parse is a plain object,
 * whose inherited `constructor` must not pass for the postings of the query word "constructor".
 */
function postingsOf(data: KeywordIndexData, term: string): number[] | undefined {
  return Object.hasOwn(data.postings, term) ? data.postings[term] : undefined;
}

/** Inverse document frequency of a term (BM25+ style, never negative). */
export function idf(data: KeywordIndexData, term: string): number {
  return idfOfCount((postingsOf(data, term)?.length ?? 0) / 2, data.docLengths.length);
}

/**
 * The same weight from counts: a term in `df` of `n` passages. Exported so that a store holding
 * postings elsewhere (a database) weighs terms exactly as this index does.
 */
export function idfOfCount(df: number, n: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/**
 * One term's BM25 contribution to one passage: `weight` is the term's idf, `tf` its count in the
 * passage, `length` the passage's token count. Exported for the same reason as idfOfCount.
 */
export function termScore(weight: number, tf: number, length: number, averageLength: number): number {
  const norm = K1 * (1 - B + (B * length) / (averageLength || 1));
  return (weight * tf * (K1 + 1)) / (tf + norm);
}

/** Scores every passage that shares a term with the query; best first, at most k. */
export function searchKeywordIndex(
  data: KeywordIndexData,
  queryTokens: readonly string[],
  k: number,
  accept: (index: number) => boolean = () => true,
): ScoredIndex[] {
  const scores = new Map<number, number>();
  for (const term of new Set(queryTokens)) {
    const list = postingsOf(data, term);
    if (!list) continue;
    const weight = idf(data, term);
    for (let i = 0; i < list.length; i += 2) {
      const doc = list[i]!;
      if (!accept(doc)) continue;
      scores.set(doc, (scores.get(doc) ?? 0) + termScore(weight, list[i + 1]!, data.docLengths[doc]!, data.averageLength));
    }
  }
  return rankScores(scores, k);
}

/** Passage scores as a ranking: best first, ties by position, at most k. */
export function rankScores(scores: ReadonlyMap<number, number>, k: number): ScoredIndex[] {
  return [...scores]
    .map(([index, score]) => ({ index, score }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k);
}
