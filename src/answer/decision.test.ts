import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, fitLogistic, foldOf, parseModel, probability, type Features } from './decision.js';

const row = (over: Partial<Features>): Features => ({ ...(Object.fromEntries(FEATURE_NAMES.map((f) => [f, 0])) as Features), ...over });

describe('fitLogistic', () => {
  it('separates data that one feature separates, and ranks by it', () => {
    const rows = [0.1, 0.2, 0.3, 0.35, 0.7, 0.75, 0.8, 0.9].map((d) => row({ sentenceDense: d, lengthLog: 0.5 }));
    const labels = [0, 0, 0, 0, 1, 1, 1, 1];
    const model = fitLogistic(rows, labels);
    rows.forEach((r, i) => expect(probability(model, r) >= 0.5).toBe(labels[i] === 1));
    expect(probability(model, row({ sentenceDense: 0.95 }))).toBeGreaterThan(probability(model, row({ sentenceDense: 0.6 })));
  });

  it('is deterministic', () => {
    const rows = [row({ coverageAll: 1 }), row({ coverageAll: 0 })];
    expect(fitLogistic(rows, [1, 0])).toEqual(fitLogistic(rows, [1, 0]));
  });

  it('gives probabilities in [0, 1] for any features', () => {
    const model = fitLogistic([row({ denseGap: 1 }), row({ denseGap: -1 })], [1, 0]);
    fc.assert(fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: FEATURE_NAMES.length, maxLength: FEATURE_NAMES.length }), (xs) => {
      const p = probability(model, Object.fromEntries(FEATURE_NAMES.map((f, i) => [f, xs[i]!])) as Features);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }));
  });
});

describe('folds and weights files', () => {
  it('puts a key always in the same fold, and spreads keys over all folds', () => {
    const folds = Array.from({ length: 200 }, (_, i) => foldOf(`K${i}`, 5));
    expect(new Set(folds).size).toBe(5);
    expect(foldOf('K17', 5)).toBe(foldOf('K17', 5));
  });

  it('matches weights to features by name and refuses a malformed file', () => {
    const m = parseModel({ features: ['sentenceDense', 'gone'], mean: [0.5, 0], std: [0.1, 1], weights: [2, 9], bias: -1, threshold: 0.6 });
    expect(m.weights[FEATURE_NAMES.indexOf('sentenceDense')]).toBe(2);
    expect(m.weights.filter((w) => w !== 0)).toEqual([2]);
    expect(() => parseModel({ features: ['a'], mean: [], std: [], weights: [], bias: 0, threshold: 0.5 })).toThrow(/calibrate/);
  });
});
