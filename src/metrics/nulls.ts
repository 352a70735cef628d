/**
 * Null models for the geometry metrics, and the permutation test around them: how far a value is
 * from what the same metric gives when the structure it measures is destroyed. Pure and seeded.
 *
 * - `shuffledConditions` (decodability, CCGP, SD: the label-shuffle null): the samples' condition
 *   labels permuted, so activity carries no information about the condition.
 * - `geometricNull` (CCGP, SD: the geometric null of Bernardi et al. 2020, as decodanda builds it):
 *   each condition's cloud of samples moved rigidly to a new centroid drawn from an isotropic
 *   Gaussian whose variance per unit is that of the real centroids. The within-condition noise
 *   stays; the arrangement of the conditions, which CCGP and SD measure, becomes random. (The
 *   label shuffle also destroys decodability itself; this null keeps clouds separable, so it asks
 *   whether the *geometry* is special, not whether there is signal.)
 * - `shuffledUnits` (PS: Bernardi et al.'s null): each unit's values permuted across the conditions
 *   independently, destroying the coding-vector geometry while keeping each unit's distribution.
 * - `permutedRows` (CKA, RSA): the conditions of one representation permuted against the other.
 */
import type { Matrix, MatrixLike } from '../types.js';
import { Rng } from '../random.js';
import { requireNumber } from '../errors.js';
import { toMatrix } from './matrix.js';

/** A value, its null distribution's mean and standard deviation, and the permutation p-value. */
export interface NullTest {
  value: number;
  null_mean: number;
  null_sd: number;
  /** (1 + #{null ≥ value}) / (1 + samples): one-sided, as scikit-learn's `permutation_test_score`. */
  p_value: number;
  null_samples: number;
}

export interface NullOptions {
  /** Null draws. Default 100 (NULL_DEFAULTS). */
  samples?: number;
  /** Seed of the draws. Default 0 (NULL_DEFAULTS). */
  seed?: number;
}

/** The defaults of `nullTest` and of the geometry metrics' `null` option. */
export const NULL_DEFAULTS = { samples: 100, seed: 0 } as const;

/**
 * The permutation test of `value` against `samples` draws of `draw(rng)` (the metric on null
 * data): p = (1 + #{null ≥ value}) / (1 + n) (Phipson & Smyth 2010; never 0), mean and sample sd
 * (n − 1) of the draws.
 */
export function nullTest(value: number, draw: (rng: Rng) => number, options: NullOptions = {}): NullTest {
  const n = requireNumber('null.samples', options.samples ?? NULL_DEFAULTS.samples, { integer: true, min: 2 });
  const rng = new Rng(requireNumber('null.seed', options.seed ?? NULL_DEFAULTS.seed, { integer: true, min: 0 }));
  return nullSummary(
    value,
    Array.from({ length: n }, () => draw(rng)),
  );
}

/** `nullTest`'s summary of null values already drawn (e.g. computed on a worker pool). */
export function nullSummary(value: number, values: number[]): NullTest {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const above = values.filter((v) => v >= value).length;
  return { value, null_mean: mean, null_sd: sd, p_value: (1 + above) / (1 + n), null_samples: n };
}

/** The condition labels permuted (Fisher–Yates from `rng`). */
export function shuffledConditions(conditions: ArrayLike<number>, rng: Rng): Int32Array {
  const order = rng.permutation(conditions.length);
  return Int32Array.from(order, (i) => conditions[i]);
}

/**
 * Samples with each condition's cloud moved to a random centroid (see the module comment): for
 * condition c, x − m_c + m′_c with m_c its mean and m′_c ~ N(0, diag(v)), v_j the variance of unit
 * j over the real centroids (about their grand mean, which is kept).
 */
export function geometricNull(
  samples: MatrixLike,
  conditions: ArrayLike<number>,
  rng: Rng,
): Matrix & { data: Float64Array } {
  const x = toMatrix(samples, 'samples');
  const { rows: n, cols: p } = x;
  let P = 0;
  for (let i = 0; i < n; i++) P = Math.max(P, conditions[i] + 1);
  const sums = new Float64Array(P * p),
    counts = new Float64Array(P);
  for (let i = 0; i < n; i++) {
    counts[conditions[i]]++;
    for (let j = 0; j < p; j++) sums[conditions[i] * p + j] += x.data[i * p + j];
  }
  const centroid = Float64Array.from(sums, (s, k) => s / Math.max(1, counts[Math.floor(k / p)]));
  const present = [...counts.keys()].filter((c) => counts[c] > 0);
  const grand = new Float64Array(p),
    variance = new Float64Array(p);
  for (const c of present) for (let j = 0; j < p; j++) grand[j] += centroid[c * p + j] / present.length;
  for (const c of present)
    for (let j = 0; j < p; j++) variance[j] += (centroid[c * p + j] - grand[j]) ** 2 / Math.max(1, present.length - 1);
  const moved = new Float64Array(P * p);
  for (const c of present)
    for (let j = 0; j < p; j++) moved[c * p + j] = grand[j] + Math.sqrt(variance[j]) * rng.normal();
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    const c = conditions[i];
    for (let j = 0; j < p; j++) out[i * p + j] = x.data[i * p + j] - centroid[c * p + j] + moved[c * p + j];
  }
  return { rows: n, cols: p, data: out };
}

/** Each column (unit) permuted across the rows (conditions) independently. */
export function shuffledUnits(means: MatrixLike, rng: Rng): Matrix & { data: Float64Array } {
  const x = toMatrix(means, 'means');
  const out = new Float64Array(x.data.length);
  for (let j = 0; j < x.cols; j++) {
    const order = rng.permutation(x.rows);
    for (let r = 0; r < x.rows; r++) out[r * x.cols + j] = x.data[order[r] * x.cols + j];
  }
  return { rows: x.rows, cols: x.cols, data: out };
}

/** The rows (conditions) permuted together. */
export function permutedRows(X: MatrixLike, rng: Rng): Matrix & { data: Float64Array } {
  const x = toMatrix(X, 'X');
  const order = rng.permutation(x.rows);
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.rows; r++) out.set(x.data.subarray(order[r] * x.cols, (order[r] + 1) * x.cols), r * x.cols);
  return { rows: x.rows, cols: x.cols, data: out };
}
