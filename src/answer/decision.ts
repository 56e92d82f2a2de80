/**
 * The learned answer/abstain decision: a logistic regression over a candidate sentence's
 * features (coverage, dense scores, rank, BM25, indicator overlap …) that says how likely the
 * sentence answers the question. Fitted by `npm run calibrate` (src/cli/calibrate.ts) on the
 * question bank, written to decision-weights.json; the service only loads and applies it.
 * A short, dependency-free implementation: standardised features, L2-regularised batch
 * gradient descent, deterministic k-fold splits.
 */
import weightsJson from './decision-weights.json' with { type: 'json' };

/** Names of the features, in the order of a feature vector. */
export const FEATURE_NAMES = [
  'coverageAll',
  'coverageKnown',
  'bigramCoverage',
  'indicatorOverlap',
  'sentenceDense',
  'passageDense',
  'denseGap',
  'rankInverse',
  'bm25Relative',
  'missing',
  'asksFigure',
  'figureIndicator',
  'deadlineMatch',
  'lengthLog',
  'unmatchedRare',
  'topDense',
  'topCoverage',
  'rarestMissing',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export type Features = Record<FeatureName, number>;

export interface DecisionModel {
  features: readonly string[];
  /** Mean and standard deviation of each feature on the training set (standardisation). */
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
  /** A candidate answers when its probability is at least this. */
  threshold: number;
}

export function toVector(f: Features): number[] {
  return FEATURE_NAMES.map((n) => f[n]);
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Probability that a candidate with these features answers its question. */
export function probability(model: DecisionModel, features: Features): number {
  const x = toVector(features);
  let z = model.bias;
  for (let i = 0; i < x.length; i++) z += (model.weights[i] ?? 0) * ((x[i]! - (model.mean[i] ?? 0)) / (model.std[i] || 1));
  return sigmoid(z);
}

export interface FitOptions {
  /** L2 penalty on the weights (not the bias). Default 0.01. */
  l2?: number;
  /** Gradient steps. Default 3000. */
  iterations?: number;
  /** Step size. Default 0.5. */
  rate?: number;
  /** Weight of positive examples relative to negatives (they are rarer). Default 1. */
  positiveWeight?: number;
}

/** Fits a logistic regression to rows of features with 0/1 labels. Deterministic. */
export function fitLogistic(rows: readonly Features[], labels: readonly number[], options: FitOptions = {}): DecisionModel {
  const l2 = options.l2 ?? 0.01;
  const iterations = options.iterations ?? 3000;
  const rate = options.rate ?? 0.5;
  const pw = options.positiveWeight ?? 1;
  const X = rows.map(toVector);
  const d = FEATURE_NAMES.length;
  const n = X.length;
  const mean = Array.from({ length: d }, (_, j) => X.reduce((a, x) => a + x[j]!, 0) / Math.max(1, n));
  const std = Array.from({ length: d }, (_, j) => Math.sqrt(X.reduce((a, x) => a + (x[j]! - mean[j]!) ** 2, 0) / Math.max(1, n)) || 1);
  const Z = X.map((x) => x.map((v, j) => (v - mean[j]!) / std[j]!));
  const w = new Array<number>(d).fill(0);
  let b = 0;
  const sw = labels.reduce<number>((a, y) => a + (y ? pw : 1), 0) || 1;
  for (let it = 0; it < iterations; it++) {
    const gw = new Array<number>(d).fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const z = Z[i]!;
      let s = b;
      for (let j = 0; j < d; j++) s += w[j]! * z[j]!;
      const weight = labels[i] ? pw : 1;
      const err = (sigmoid(s) - labels[i]!) * weight;
      for (let j = 0; j < d; j++) gw[j]! += err * z[j]!;
      gb += err;
    }
    for (let j = 0; j < d; j++) w[j]! -= rate * (gw[j]! / sw + l2 * w[j]!);
    b -= rate * (gb / sw);
  }
  return { features: [...FEATURE_NAMES], mean, std, weights: w, bias: b, threshold: 0.5 };
}

/**
 * Deterministic k-fold assignment by a hash of each key (a question's id), so a question and
 * all of its candidate sentences always fall in the same fold.
 */
export function foldOf(key: string, k: number): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % k;
}

/**
 * Reads a model from parsed JSON. Weights are matched to this code's features by name: a feature
 * the file lacks weighs nothing (until the next `npm run calibrate`), one it has extra is ignored.
 */
export function parseModel(json: unknown): DecisionModel {
  const m = json as Partial<DecisionModel>;
  const arrays = [m.mean, m.std, m.weights];
  const ok =
    Array.isArray(m.features) &&
    arrays.every((a) => Array.isArray(a) && a.length === m.features!.length && a.every((v) => typeof v === 'number' && Number.isFinite(v))) &&
    typeof m.bias === 'number' &&
    typeof m.threshold === 'number';
  if (!ok) throw new Error('decision weights: features, mean, std, weights, bias and threshold are required; run `npm run calibrate`');
  const at = (name: string) => m.features!.indexOf(name);
  const pick = (a: number[], fallback: number) => FEATURE_NAMES.map((f) => (at(f) >= 0 ? a[at(f)]! : fallback));
  return { features: [...FEATURE_NAMES], mean: pick(m.mean!, 0), std: pick(m.std!, 1), weights: pick(m.weights!, 0), bias: m.bias!, threshold: m.threshold! };
}

/** The committed answer/abstain model (fitted by `npm run calibrate`). */
export const DECISION_MODEL: DecisionModel = parseModel(weightsJson);

/** The probability threshold fitted with the committed model. */
export const DEFAULT_THRESHOLD: number = DECISION_MODEL.threshold;
