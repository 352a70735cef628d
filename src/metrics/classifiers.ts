/**
 * Linear classifiers for the decoding metrics (CCGP, shattering dimensionality, decodability).
 * Pure functions over a row-major float64 data matrix and lists of row indices, so folds and
 * held-out conditions never copy the data.
 *
 * - 'svm': a linear SVM like scikit-learn's `LinearSVC()` defaults (liblinear): squared hinge
 *   loss, L2 penalty, C = 1, an intercept as a constant feature 1 that is penalised too
 *   (intercept_scaling = 1). The objective is strictly convex, so its minimiser does not depend on
 *   the solver; like scikit-learn's dual = 'auto', we solve the primal when there are more samples
 *   than features (Newton's method on the generalised Hessian, Keerthi & DeCoste 2005 — dual
 *   coordinate descent needed more than liblinear's 1000 passes on overlapping classes), else the
 *   dual by coordinate descent (Hsieh et al. 2008, liblinear's solver; the visiting order is a
 *   seeded permutation per pass, so results are deterministic given the seed).
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
  /** Dual solver: stopping tolerance on the projected-gradient spread. Default 1e-4. */
  tol?: number;
  /** Dual solver: maximum passes over the data. Default 1000. */
  maxIter?: number;
  /** Dual solver: seed of the coordinate order. Default 0. */
  seed?: number;
}

/** Linear SVM (squared hinge, L2, penalised intercept), as scikit-learn's LinearSVC; see the module comment. */
export function fitLinearSvm(t: TrainingSet, options: SvmOptions = {}): LinearModel {
  return t.rows.length > t.p + 1 ? svmPrimalNewton(t, options) : svmDualCoordinateDescent(t, options);
}

/**
 * Primal Newton for f(v) = ½‖v‖² + C Σ_i max(0, 1 − y_i v·z_i)², z_i = (x_i, 1), v = (w, b):
 * gradient v − 2C Σ_{active} y_i (1 − y_i v·z_i) z_i, generalised Hessian I + 2C Σ_{active} z_i z_iᵀ,
 * backtracking (Armijo) line search. Stops when ‖∇f‖ ≤ 1e-8 ‖∇f(0)‖ (tighter than liblinear's
 * 1e-4, whose solutions agree with ours to its tolerance), or after 100 Newton steps.
 */
function svmPrimalNewton(t: TrainingSet, options: SvmOptions): LinearModel {
  const { x, p, rows, y } = t;
  const C = options.C ?? 1;
  const n = rows.length;
  const q = p + 1;
  const v = new Float64Array(q);
  const sign = Float64Array.from({ length: n }, (_, i) => (y[i] > 0 ? 1 : -1));
  const margin = new Float64Array(n); // y_i v·z_i
  const computeMargins = (vv: Float64Array, out: Float64Array) => {
    for (let i = 0; i < n; i++) {
      const off = rows[i] * p;
      let f = vv[p];
      for (let j = 0; j < p; j++) f += vv[j] * x[off + j];
      out[i] = sign[i] * f;
    }
  };
  const objective = (vv: Float64Array, m: Float64Array) => {
    let s = 0;
    for (let j = 0; j < q; j++) s += vv[j] * vv[j];
    s *= 0.5;
    for (let i = 0; i < n; i++) { const e = 1 - m[i]; if (e > 0) s += C * e * e; }
    return s;
  };
  computeMargins(v, margin);
  let fv = objective(v, margin);
  let g0 = -1;
  const g = new Float64Array(q);
  const Hs = new Float64Array(q * q);
  const zi = new Float64Array(q);
  const trial = new Float64Array(q);
  const trialMargin = new Float64Array(n);
  for (let iter = 0; iter < 100; iter++) {
    g.set(v);
    Hs.fill(0);
    for (let i = 0; i < n; i++) {
      const e = 1 - margin[i];
      if (e <= 0) continue;
      const off = rows[i] * p;
      for (let j = 0; j < p; j++) zi[j] = x[off + j];
      zi[p] = 1;
      const coef = -2 * C * sign[i] * e;
      for (let j = 0; j < q; j++) {
        const a = zi[j];
        g[j] += coef * a;
        if (a === 0) continue;
        const o = j * q, s2 = 2 * C * a;
        for (let k = j; k < q; k++) Hs[o + k] += s2 * zi[k];
      }
    }
    let gnorm = 0;
    for (let j = 0; j < q; j++) gnorm += g[j] * g[j];
    gnorm = Math.sqrt(gnorm);
    if (g0 < 0) g0 = gnorm;
    if (gnorm <= 1e-8 * g0 || gnorm === 0) break;
    for (let j = 0; j < q; j++) {
      Hs[j * q + j] += 1;
      for (let k = 0; k < j; k++) Hs[j * q + k] = Hs[k * q + j];
    }
    const d = choleskySolve(Hs, g, q); // Newton direction is −d
    let slope = 0;
    for (let j = 0; j < q; j++) slope -= g[j] * d[j];
    let step = 1;
    for (let ls = 0; ls < 50; ls++) {
      for (let j = 0; j < q; j++) trial[j] = v[j] - step * d[j];
      computeMargins(trial, trialMargin);
      const ft = objective(trial, trialMargin);
      if (ft <= fv + 1e-4 * step * slope) {
        v.set(trial);
        margin.set(trialMargin);
        fv = ft;
        break;
      }
      step /= 2;
    }
    if (step < 1e-12) break;
  }
  return { w: v.slice(0, p), b: v[p] };
}

/** Dual coordinate descent for the same problem (Hsieh et al. 2008), for n ≤ p + 1. */
function svmDualCoordinateDescent(t: TrainingSet, options: SvmOptions): LinearModel {
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
