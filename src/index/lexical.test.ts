/** Tests for the BM25 keyword index: its mechanics on tiny corpora, and agreement with a naïve reference. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildKeywordIndex, idf, searchKeywordIndex, type KeywordIndexData } from './lexical.js';

/** The documented BM25 parameters. */
const K1 = 1.2;
const B = 0.75;

/**
 * BM25 computed the straightforward way, straight from the formula: for each distinct query term,
 * count its document frequency and each passage's term frequency by scanning the raw tokens.
 */
function referenceScores(documents: readonly string[][], query: readonly string[]): Map<number, number> {
  const n = documents.length;
  const averageLength = n === 0 ? 0 : documents.reduce((sum, d) => sum + d.length, 0) / n;
  const scores = new Map<number, number>();
  for (const term of new Set(query)) {
    const df = documents.filter((d) => d.includes(term)).length;
    if (df === 0) continue;
    const weight = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    documents.forEach((d, i) => {
      const tf = d.filter((t) => t === term).length;
      if (tf === 0) return;
      const score = (weight * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * d.length) / (averageLength || 1)));
      scores.set(i, (scores.get(i) ?? 0) + score);
    });
  }
  return scores;
}

/** The index as the store writes and reads it. */
function roundTrip(data: KeywordIndexData): KeywordIndexData {
  return JSON.parse(JSON.stringify(data)) as KeywordIndexData;
}

const filler = (n: number) => Array.from({ length: n }, (_, i) => `填充${i}`);

describe('searchKeywordIndex', () => {
  it('lets a rare term outweigh a common one', () => {
    const documents = [
      ['网格', ...filler(5)],
      ['安置房', ...filler(5)],
      ['网格', ...filler(5)],
      ['网格', ...filler(5)],
      ['网格', ...filler(5)],
    ];
    const data = buildKeywordIndex(documents);
    expect(idf(data, '安置房')).toBeGreaterThan(idf(data, '网格'));
    const results = searchKeywordIndex(data, ['网格', '安置房'], 10);
    expect(results[0]?.index).toBe(1);
    expect(results).toHaveLength(5);
  });

  it('saturates term frequency: each further repeat adds less, and the score stays below idf × (k1 + 1)', () => {
    const length = 32;
    const documents = [1, 2, 4, 8, 16, 32].map((tf) => [...Array<string>(tf).fill('瓶改管'), ...filler(length - tf)]);
    documents.push(filler(length));
    const data = buildKeywordIndex(documents);
    const byIndex = new Map(searchKeywordIndex(data, ['瓶改管'], 10).map((r) => [r.index, r.score]));
    const scores = [0, 1, 2, 3, 4, 5].map((i) => byIndex.get(i)!);
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThan(scores[i - 1]!);
    // Gains per doubling of tf shrink.
    for (let i = 2; i < scores.length; i++) expect(scores[i]! - scores[i - 1]!).toBeLessThan(scores[i - 1]! - scores[i - 2]!);
    for (const score of scores) expect(score).toBeLessThan(idf(data, '瓶改管') * (K1 + 1));
  });

  it('ranks a short passage above a long one with the same term frequency', () => {
    const data = buildKeywordIndex([['网格', ...filler(2)], ['网格', ...filler(20)]]);
    expect(searchKeywordIndex(data, ['网格'], 10).map((r) => r.index)).toEqual([0, 1]);
  });

  it('leaves out the passages that accept rejects', () => {
    const data = buildKeywordIndex([['网格'], ['网格', '网格'], ['网格', '体系']]);
    const all = searchKeywordIndex(data, ['网格'], 10);
    const best = all[0]!.index;
    const filtered = searchKeywordIndex(data, ['网格'], 10, (i) => i !== best);
    expect(filtered.map((r) => r.index)).not.toContain(best);
    expect(filtered).toEqual(all.filter((r) => r.index !== best));
  });

  it('returns scores best first, ties by passage order, at most k', () => {
    const data = buildKeywordIndex([['a', 'b'], ['b'], ['a'], ['a', 'b'], ['c']]);
    const results = searchKeywordIndex(data, ['a', 'b'], 10);
    for (let i = 1; i < results.length; i++) {
      const [prev, cur] = [results[i - 1]!, results[i]!];
      expect(prev.score > cur.score || (prev.score === cur.score && prev.index < cur.index)).toBe(true);
    }
    // 0 and 3 tie, as do 1 and 2: equal scores keep passage order.
    expect(results.map((r) => r.index)).toEqual([0, 3, 1, 2]);
    expect(results[0]!.score).toBe(results[1]!.score);
    expect(searchKeywordIndex(data, ['a', 'b'], 2)).toEqual(results.slice(0, 2));
  });

  it('returns nothing for an empty query or one whose words no passage holds', () => {
    const data = buildKeywordIndex([['网格', '体系'], ['安置房']]);
    expect(searchKeywordIndex(data, [], 10)).toEqual([]);
    expect(searchKeywordIndex(data, ['不存在'], 10)).toEqual([]);
    expect(searchKeywordIndex(buildKeywordIndex([]), ['网格'], 10)).toEqual([]);
  });

  it('counts a repeated query word once', () => {
    const data = buildKeywordIndex([['网格', '体系'], ['体系']]);
    expect(searchKeywordIndex(data, ['网格', '网格', '网格'], 10)).toEqual(searchKeywordIndex(data, ['网格'], 10));
  });

  it('finds nothing for words that name Object.prototype members, even after a JSON round trip', () => {
    // Regression: an index read back with JSON.parse took Object's `constructor` for the postings
    // of the query word "constructor" and returned { index: undefined, score: NaN }.
    const data = buildKeywordIndex([['网格'], ['体系']]);
    for (const index of [data, roundTrip(data)]) {
      for (const word of ['constructor', '__proto__', 'tostring', 'hasownproperty']) {
        expect(searchKeywordIndex(index, [word], 10)).toEqual([]);
        expect(Number.isFinite(idf(index, word))).toBe(true);
      }
    }
  });

  it('scores a passage holding the word __proto__ like any other word, after a JSON round trip too', () => {
    const data = buildKeywordIndex([['__proto__', '网格'], ['网格']]);
    expect(searchKeywordIndex(roundTrip(data), ['__proto__'], 10)).toEqual(searchKeywordIndex(data, ['__proto__'], 10));
    expect(searchKeywordIndex(data, ['__proto__'], 10).map((r) => r.index)).toEqual([0]);
  });
});

describe('searchKeywordIndex against a naïve BM25', () => {
  const word = fc.constantFrom('网格', '体系', '安置房', '千村美居', 'a', 'b', 'c', 'constructor', '__proto__');
  const documents = fc.array(fc.array(word, { maxLength: 15 }), { maxLength: 12 });
  const query = fc.array(word, { maxLength: 6 });

  it('agrees with the reference within 1e-9 on every passage, fresh or read back from JSON', () => {
    fc.assert(
      fc.property(documents, query, (docs, q) => {
        const expected = referenceScores(docs, q);
        const built = buildKeywordIndex(docs);
        for (const data of [built, roundTrip(built)]) {
          const results = searchKeywordIndex(data, q, docs.length + 1);
          expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual([...expected.keys()].sort((a, b) => a - b));
          for (const { index, score } of results) expect(Math.abs(score - expected.get(index)!)).toBeLessThan(1e-9);
          for (let i = 1; i < results.length; i++) expect(results[i - 1]!.score).toBeGreaterThanOrEqual(results[i]!.score);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('returns the best k of the full ranking, and only accepted passages', () => {
    fc.assert(
      fc.property(documents, query, fc.nat({ max: 12 }), fc.func(fc.boolean()), (docs, q, k, accept) => {
        const data = buildKeywordIndex(docs);
        const full = searchKeywordIndex(data, q, docs.length + 1, (i) => accept(i));
        expect(searchKeywordIndex(data, q, k, (i) => accept(i))).toEqual(full.slice(0, k));
        const unfiltered = searchKeywordIndex(data, q, docs.length + 1);
        expect(full).toEqual(unfiltered.filter((r) => accept(r.index)));
      }),
      { numRuns: 300 },
    );
  });
});
