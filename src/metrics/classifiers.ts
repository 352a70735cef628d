/**
 * Linear classifiers for the decoding metrics (CCGP, shattering dimensionality, decodability).
 * Pure functions over a row-major float64 data matrix and lists of row indices, so folds and
 * held-out conditions never copy the data.
 *
 * - 'svm': a linear SVM like scikit-learn's `LinearSVC()` defaults (liblinear): squared hinge
 *   loss, L2 penalty, C = 1, an intercept as a constant feature 1 that is penalised too
 *   (intercept_scaling = 1), tol = 1e-4, at most 1000 passes. Solved by dual coordinate descent
 *   (Hsieh et al. 2008, liblinear's solver for this problem); the objective is strictly convex, so
 *   the solution does not depend on the solver and matches liblinear's to its tolerance. The
 *   visiting order is a seeded permutation per pass: deterministic given the seed.
 * - 'ridge': scikit-learn's `RidgeClassifier()` defaults: targets ±1, alpha = 1, unpenalised
 *   intercept (centred data), closed form (Cholesky) — much faster, a little less accurate.
 */
import { Rng } from '../random.js';

export const CLASSIFIERS = ['svm', 'ridge'] as const;
export type ClassifierName = (typeof CLASSIFIERS)[number];

/** A linear decision function f(x) = w·x + b; class 1 where f(x) > 0. */
export interface LinearModel {
  w: Float64Array;
  b: number;
}

/** Rows `rows` of the row-major n × p matrix `x`, with 0/1 labels `y[i]` for `rows[i]`. */
export interface TrainingSet {
  x: Float64Array;
  p: number;
  rows: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface SvmOptions {
  /** Inverse regularisation strength. Default 1. */
  C?: number;
  /** Stopping tolerance on the projected-gradient spread. Default 1e-4. */
  tol?: number;
  /** Maximum passes over the data. Default 1000. */
  maxIter?: number;
  /** Seed of the coordinate order. Default 0. */
  seed?: number;
}

/** Linear SVM (squared hinge, L2, penalised intercept), as scikit-learn's LinearSVC. */
export function fitLinearSvm(t: TrainingSet, options: SvmOptions = {}): LinearModel {
  const { x, p, rows, y } = t;
  const C = options.C ?? 1, tol = options.tol ?? 1e-4, maxIter = options.maxIter ?? 1000;
  const n = rows.length;
  const w = new Float64Array(p);
  let wb = 0; // weight of the constant feature 1
  const alpha = new Float64Array(n);
  const sign = new Float64Array(n);
  const qd = new Float64Array(n);
  const diag = 1 / (2 * C);
  for (let i = 0; i < n; i++) {
    sign[i] = y[i] > 0 ? 1 : -1;
    const off = rows[i] * p;
    let s = 1 + diag;
    for (let j = 0; j < p; j++) s += x[off + j] * x[off + j];
    qd[i] = s;
  }
  const rng = new Rng(options.seed ?? 0);
  for (let iter = 0; iter < maxIter; iter++) {
    const order = rng.permutation(n);
    let pgMax = -Infinity, pgMin = Infinity;
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const off = rows[i] * p;
      let f = wb;
      for (let j = 0; j < p; j++) f += w[j] * x[off + j];
      const G = sign[i] * f - 1 + diag * alpha[i];
      const pg = alpha[i] === 0 ? Math.min(G, 0) : G;
      if (pg > pgMax) pgMax = pg;
      if (pg < pgMin) pgMin = pg;
      if (pg !== 0) {
        const old = alpha[i];
        alpha[i] = Math.max(old - G / qd[i], 0);
        const d = (alpha[i] - old) * sign[i];
        if (d !== 0) {
          for (let j = 0; j < p; j++) w[j] += d * x[off + j];
          wb += d;
        }
      }
    }
    if (pgMax - pgMin <= tol) break;
  }
  return { w, b: wb };
}

export interface RidgeOptions {
  /** L2 penalty. Default 1. */
  alpha?: number;
}

/** Solve A z = r in place for symmetric positive definite A (n × n, row-major), by Cholesky. */
function choleskySolve(A: Float64Array, r: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / L[j * n + j];
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = r[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * z[k];
    z[i] = s / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * z[k];
    z[i] = s / L[i * n + i];
  }
  return z;
}

/**
 * Ridge classifier: least squares on ±1 targets with penalty alpha‖w‖², intercept unpenalised.
 * Solves the p × p normal equations, or the n × n dual system when there are fewer samples than
 * features.
 */
export function fitRidge(t: TrainingSet, options: RidgeOptions = {}): LinearModel {
  const { x, p, rows, y } = t;
  const alpha = options.alpha ?? 1;
  const n = rows.length;
  const mean = new Float64Array(p);
  let ym = 0;
  for (let i = 0; i < n; i++) {
    const off = rows[i] * p;
    for (let j = 0; j < p; j++) mean[j] += x[off + j] / n;
    ym += (y[i] > 0 ? 1 : -1) / n;
  }
  const yc = Float64Array.from({ length: n }, (_, i) => (y[i] > 0 ? 1 : -1) - ym);
  const row = (i: number, j: number) => x[rows[i] * p + j] - mean[j];
  let w: Float64Array;
  if (n >= p) {
    const A = new Float64Array(p * p);
    const r = new Float64Array(p);
    const xi = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < p; j++) xi[j] = row(i, j);
      for (let j = 0; j < p; j++) {
        const v = xi[j];
        if (v === 0) continue;
        r[j] += v * yc[i];
        const o = j * p;
        for (let k = j; k < p; k++) A[o + k] += v * xi[k];
      }
    }
    for (let j = 0; j < p; j++) {
      A[j * p + j] += alpha;
      for (let k = 0; k < j; k++) A[j * p + k] = A[k * p + j];
    }
    w = choleskySolve(A, r, p);
  } else {
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let l = i; l < n; l++) {
      let s = 0;
      for (let j = 0; j < p; j++) s += row(i, j) * row(l, j);
      K[i * n + l] = s;
      K[l * n + i] = s;
    }
    for (let i = 0; i < n; i++) K[i * n + i] += alpha;
    const a = choleskySolve(K, yc, n);
    w = new Float64Array(p);
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) w[j] += a[i] * row(i, j);
  }
  let b = ym;
  for (let j = 0; j < p; j++) b -= mean[j] * w[j];
  return { w, b };
}

/** Fit the named classifier. */
export function fitClassifier(name: ClassifierName, t: TrainingSet, seed = 0): LinearModel {
  return name === 'svm' ? fitLinearSvm(t, { seed }) : fitRidge(t);
}

/** Fraction of `rows` (with 0/1 labels y) on the correct side of the model; a tie (f = 0) counts as class 0. */
export function accuracyOf(m: LinearModel, x: Float64Array, p: number, rows: ArrayLike<number>, y: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < rows.length; i++) {
    const off = rows[i] * p;
    let f = m.b;
    for (let j = 0; j < p; j++) f += m.w[j] * x[off + j];
    if ((f > 0 ? 1 : 0) === (y[i] > 0 ? 1 : 0)) correct++;
  }
  return correct / rows.length;
}

/** Validate a classifier name. */
export function requireClassifier(v: unknown, field = 'options.classifier'): ClassifierName {
  if (!(CLASSIFIERS as readonly unknown[]).includes(v)) {
    throw new Error(`${field}: received ${JSON.stringify(v)}; accepted: ${CLASSIFIERS.map((c) => `'${c}'`).join(', ')}`);
  }
  return v as ClassifierName;
}
