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
import { DenseRows, choleskySolve } from '../kernels/dense.js';
import { ConfigError } from '../errors.js';

export const CLASSIFIERS = ['svm', 'ridge'] as const;
export type ClassifierName = (typeof CLASSIFIERS)[number];

/** A linear decision function f(x) = w·x + b; class 1 where f(x) > 0. */
export interface LinearModel {
  w: Float64Array;
  b: number;
}

/**
 * A fitted model and how its solver ended: `converged` is true when the solver's stopping rule
 * was met (the closed-form ridge always is; so is a Newton line search that can make no more
 * progress), false when it stopped at its iteration limit first; `iterations` counts Newton steps
 * or dual passes.
 */
export interface Fit extends LinearModel {
  converged: boolean;
  iterations: number;
}

/** Rows `rows` of the row-major n × p matrix `x`, with 0/1 labels `y[i]` for `rows[i]`. */
export interface TrainingSet {
  x: Float64Array;
  p: number;
  rows: ArrayLike<number>;
  y: ArrayLike<number>;
  /**
   * Optional precomputed Σ z zᵀ over `rows`, z = (x, 1): a full (p+1) × (p+1) matrix. Cross-
   * validation and CCGP fit many classifiers on unions of the same cells of samples; summing
   * per-cell matrices then replaces the O(n p²) products of every fit (see decoding.ts).
   */
  zz?: Float64Array;
}

/**
 * Σ scale · z zᵀ over the rows of x (z = (x_i, 1)), full (p+1) × (p+1), added into `out`: the
 * per-fold Gram sums of cross-validation and the ridge classifier's normal equations. Runs in
 * the f64x2 WebAssembly kernel of `DenseRows` (8× the plain-JavaScript rank-4 loop it replaced).
 */
export function addOuterProducts(
  x: Float64Array,
  p: number,
  rows: ArrayLike<number>,
  out: Float64Array,
  scale = 1,
): Float64Array {
  const dense = new DenseRows(x, p, rows);
  try {
    dense.gram.set(out);
    dense.addOuter(
      Int32Array.from({ length: rows.length }, (_, i) => i),
      scale,
    );
    out.set(dense.gram);
    return out;
  } finally {
    dense.dispose();
  }
}

export interface SvmOptions {
  /** Inverse regularisation strength. Default 1. */
  C?: number;
  /**
   * Stopping tolerance, as LinearSVC's `tol` (default 1e-4): for the dual solver, on the
   * projected-gradient spread; for the primal Newton solver, liblinear's relative gradient rule.
   */
  tol?: number;
  /** Dual solver: maximum passes over the data (liblinear's max_iter). Default 1000. */
  maxIter?: number;
  /** Primal solver: maximum Newton steps. Default 100. */
  maxNewtonSteps?: number;
  /** Dual solver: seed of the coordinate order. Default 0. */
  seed?: number;
  /**
   * Primal solver: a starting point (e.g. the solution on an overlapping training set, as in
   * cross-validation). It changes the path, not the minimiser.
   */
  init?: LinearModel;
}

/** Linear SVM (squared hinge, L2, penalised intercept), as scikit-learn's LinearSVC; see the module comment. */
export function fitLinearSvm(t: TrainingSet, options: SvmOptions = {}): Fit {
  if (t.rows.length <= t.p + 1) return svmDualCoordinateDescent(t, options);
  // Nearly separable classes (few support vectors) converge in a few dual passes, much faster
  // than Newton steps; overlapping ones do not, and go on with Newton from where the dual got.
  // The passes tried cost at most about three Newton steps (a pass is n·p, a step ~2n·p + p³/6).
  const n = t.rows.length,
    q = t.p + 1;
  const budget = Math.min(DUAL_FIRST_PASSES, Math.floor((3 * (q ** 3 / 6 + 2 * n * t.p)) / (n * t.p)));
  if (!options.init && budget > 0) {
    const dual = svmDualCoordinateDescent(t, { ...options, maxIter: Math.min(budget, options.maxIter ?? budget) });
    if (dual.converged) return dual;
    return svmPrimalNewton(t, { ...options, init: dual });
  }
  return svmPrimalNewton(t, options);
}

/** Most dual passes tried before switching to Newton's method (see fitLinearSvm). */
const DUAL_FIRST_PASSES = 30;

/**
 * Primal Newton for f(v) = ½‖v‖² + C Σ_i max(0, 1 − y_i v·z_i)², z_i = (x_i, 1), v = (w, b):
 * gradient v − 2C Σ_{active} y_i (1 − y_i v·z_i) z_i, generalised Hessian I + 2C Σ_{active} z_i z_iᵀ,
 * exact line search. Stops as liblinear's primal solver does with LinearSVC's tol (default 1e-4):
 * ‖∇f‖ ≤ tol · max(min(#positive, #negative), 1) / n · ‖∇f(0)‖, or after `maxNewtonSteps` (100).
 */
function svmPrimalNewton(t: TrainingSet, options: SvmOptions): Fit {
  // The training rows in WebAssembly memory: the margin passes and the Gram updates of every
  // Newton step run there (f64x2); S = Σ_active z zᵀ is its `gram`.
  const dense = new DenseRows(t.x, t.p, t.rows);
  try {
    return newtonIterations(t, options, dense);
  } finally {
    dense.dispose();
  }
}

function newtonIterations(t: TrainingSet, options: SvmOptions, dense: DenseRows): Fit {
  const { x, p, rows, y } = t;
  const C = options.C ?? 1;
  const n = rows.length;
  const q = p + 1;
  const v = new Float64Array(q);
  let positives = 0;
  for (let i = 0; i < n; i++) if (y[i] > 0) positives++;
  const stop = ((options.tol ?? LIBLINEAR_TOL) * Math.max(Math.min(positives, n - positives), 1)) / n;
  const sign = Float64Array.from({ length: n }, (_, i) => (y[i] > 0 ? 1 : -1));
  const margin = new Float64Array(n); // y_i v·z_i
  const computeMargins = (vv: Float64Array, out: Float64Array) => {
    dense.v.set(vv);
    const f = dense.dots();
    for (let i = 0; i < n; i++) out[i] = sign[i] * f[i];
  };

  // ‖∇f(0)‖ fixes the stopping scale whatever the starting point: at v = 0 every margin is 0.
  let g0 = 0;
  {
    for (let i = 0; i < n; i++) dense.weights[i] = -2 * C * sign[i];
    const g = dense.weightedSum();
    for (let j = 0; j < q; j++) g0 += g[j] * g[j];
    g0 = Math.sqrt(g0);
  }
  if (options.init) {
    v.set(options.init.w);
    v[p] = options.init.b;
  }
  computeMargins(v, margin);
  const g = new Float64Array(q);
  const Hs = new Float64Array(q * q);
  const dz = new Float64Array(n);
  // S = Σ_active z zᵀ and r = Σ_active y z, kept across Newton steps and updated with the rows
  // whose status changed (after the first steps only a few do), instead of being rebuilt every
  // step. The gradient then costs O(q²), not a pass over the data: with y² = 1,
  //   ∇f = v − 2C Σ_active y_i (1 − y_i v·z_i) z_i = v − 2C (r − S v).
  const S = dense.gram;
  const r = new Float64Array(q);
  const isActive = new Uint8Array(n);
  let built = false;
  const entering: number[] = [],
    leaving: number[] = [];
  const active: number[] = [],
    inactive: number[] = [];
  const addSigned = (list: number[], scale: number) => {
    for (const i of list) {
      const off = rows[i] * p,
        c = scale * sign[i];
      for (let j = 0; j < p; j++) r[j] += c * x[off + j];
      r[p] += c;
    }
  };
  const maxSteps = options.maxNewtonSteps ?? 100;
  let converged = false,
    iter = 0;
  for (; iter < maxSteps; iter++) {
    active.length = inactive.length = entering.length = leaving.length = 0;
    for (let i = 0; i < n; i++) {
      const now = margin[i] < 1 ? 1 : 0;
      (now ? active : inactive).push(i);
      if (now !== isActive[i]) (now ? entering : leaving).push(i);
      isActive[i] = now;
    }
    const changes = entering.length + leaving.length;
    if (!built || changes > Math.min(active.length, inactive.length)) {
      // Build afresh: from the precomputed total minus the inactive rows when those are fewer.
      for (let i = 0; i < n; i++) dense.weights[i] = isActive[i] ? sign[i] : 0;
      r.set(dense.weightedSum());
      if (t.zz && inactive.length < active.length) {
        S.set(t.zz);
        dense.addOuter(inactive, -1);
      } else {
        S.fill(0);
        dense.addOuter(active, 1);
      }
      built = true;
    } else if (changes) {
      dense.addOuter(entering, 1);
      dense.addOuter(leaving, -1);
      addSigned(entering, 1);
      addSigned(leaving, -1);
    }
    let gnorm = 0;
    for (let j = 0; j < q; j++) {
      let sv = 0;
      const o = j * q;
      for (let k = 0; k < q; k++) sv += S[o + k] * v[k];
      g[j] = v[j] - 2 * C * (r[j] - sv);
      gnorm += g[j] * g[j];
    }
    gnorm = Math.sqrt(gnorm);
    if (gnorm <= stop * g0 || gnorm === 0) {
      converged = true;
      break;
    }
    // Generalised Hessian I + 2C S.
    for (let j = 0; j < q * q; j++) Hs[j] = 2 * C * S[j];
    for (let j = 0; j < q; j++) Hs[j * q + j] += 1;
    const d = choleskySolve(Hs, g, q); // Newton direction is −d
    // Exact line search on the piecewise quadratic f(v − s d) (as in Keerthi & DeCoste's
    // L2-SVM-MFN): margins move linearly, y_i (v − s d)·z_i = margin_i − s·dz_i, so f′(s) is
    // piecewise linear and increasing; walk its breakpoints in order to the root. O(n log n).
    computeMargins(d, dz);
    const step = exactStep(v, d, margin, dz, C);
    // No progress along a Newton direction of a strictly convex f means ∇f is 0 to rounding (as
    // when ∇f(0) = 0 and the relative rule cannot be met): that is convergence, not a stall.
    if (!(step > 0)) {
      converged = true;
      break;
    }
    for (let j = 0; j < q; j++) v[j] -= step * d[j];
    for (let i = 0; i < n; i++) margin[i] -= step * dz[i];
    if (step < 1e-12) {
      iter++;
      converged = true;
      break;
    }
  }
  return { w: v.slice(0, p), b: v[p], converged, iterations: iter };
}

/**
 * argmin_s f(v − s d) for f(v) = ½‖v‖² + C Σ max(0, 1 − m_i)², where the margins along the line
 * are m_i − s·dz_i. f′(s) = −v·d + s‖d‖² + 2C Σ_{e_i(s) > 0} e_i(s)·dz_i with e_i(s) = 1 − m_i + s·dz_i.
 */
function exactStep(v: Float64Array, d: Float64Array, margin: Float64Array, dz: Float64Array, C: number): number {
  const n = margin.length;
  let a0 = 0,
    a1 = 0;
  for (let j = 0; j < v.length; j++) {
    a0 -= v[j] * d[j];
    a1 += d[j] * d[j];
  }
  // Terms active just after s = 0, and the breakpoints s > 0 where a term switches.
  const keys = new Float64Array(n),
    ids = new Int32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const e0 = 1 - margin[i],
      g = dz[i];
    const activeNow = e0 > 0 || (e0 === 0 && g > 0);
    if (activeNow) {
      a0 += 2 * C * e0 * g;
      a1 += 2 * C * g * g;
    }
    if (g !== 0) {
      const at = -e0 / g;
      if (at > 0) {
        keys[m] = at;
        ids[m++] = i;
      }
    }
  }
  // Breakpoints in increasing order from a binary min-heap: the root is usually passed after a
  // few of them, so heapifying (O(m)) and popping those few beats sorting all m.
  const sift = (k: number) => {
    for (;;) {
      const l = 2 * k + 1,
        r = l + 1;
      let s = k;
      if (l < m && keys[l] < keys[s]) s = l;
      if (r < m && keys[r] < keys[s]) s = r;
      if (s === k) return;
      const tk = keys[k];
      keys[k] = keys[s];
      keys[s] = tk;
      const ti = ids[k];
      ids[k] = ids[s];
      ids[s] = ti;
      k = s;
    }
  };
  for (let k = (m >> 1) - 1; k >= 0; k--) sift(k);
  while (m > 0) {
    const at = keys[0],
      i = ids[0];
    const root = -a0 / a1;
    if (root <= at) return root;
    m--;
    keys[0] = keys[m];
    ids[0] = ids[m];
    sift(0);
    // Term i switches at s = at: entering when dz_i > 0, leaving when dz_i < 0.
    const e0 = 1 - margin[i],
      g = dz[i],
      sgn = g > 0 ? 1 : -1;
    a0 += sgn * 2 * C * e0 * g;
    a1 += sgn * 2 * C * g * g;
  }
  return -a0 / a1;
}

/** LinearSVC's default tol, which liblinear's primal solver scales as in svmPrimalNewton. */
const LIBLINEAR_TOL = 1e-4;

/** Dual coordinate descent for the same problem (Hsieh et al. 2008). */
function svmDualCoordinateDescent(t: TrainingSet, options: SvmOptions): Fit {
  const { x, p, rows, y } = t;
  const C = options.C ?? 1,
    tol = options.tol ?? 1e-4,
    maxIter = options.maxIter ?? 1000;
  const n = rows.length;
  const diag = 1 / (2 * C);
  // The passes run in the f64x2 kernel (DenseRows.dualPass) on the rows copied there.
  const dense = new DenseRows(x, p, rows);
  try {
    const { alpha, sign, qd, v: w } = dense;
    alpha.fill(0);
    w.fill(0);
    for (let i = 0; i < n; i++) {
      sign[i] = y[i] > 0 ? 1 : -1;
      const off = rows[i] * p;
      let s = 1 + diag;
      for (let j = 0; j < p; j++) s += x[off + j] * x[off + j];
      qd[i] = s;
    }
    const rng = new Rng(options.seed ?? 0);
    let converged = false,
      passes = 0;
    while (passes < maxIter) {
      passes++;
      if (dense.dualPass(rng.permutation(n), diag) <= tol) {
        converged = true;
        break;
      }
    }
    return { w: w.slice(0, p), b: w[p], converged, iterations: passes };
  } finally {
    dense.dispose();
  }
}

export interface RidgeOptions {
  /** L2 penalty. Default 1. */
  alpha?: number;
}

/**
 * Ridge classifier: least squares on ±1 targets with penalty alpha‖w‖², intercept unpenalised.
 * Solves the p × p normal equations, or the n × n dual system when there are fewer samples than
 * features.
 */
export function fitRidge(t: TrainingSet, options: RidgeOptions = {}): Fit {
  const { x, p, rows, y } = t;
  const alpha = options.alpha ?? 1;
  const n = rows.length;
  // The training rows in WebAssembly memory for the column sums (and the Gram matrix if not given).
  const dense = new DenseRows(x, p, rows);
  try {
    dense.weights.fill(1 / n);
    const mean = dense.weightedSum().slice(0, p);
    let ym = 0;
    for (let i = 0; i < n; i++) ym += (y[i] > 0 ? 1 : -1) / n;
    const yc = Float64Array.from({ length: n }, (_, i) => (y[i] > 0 ? 1 : -1) - ym);
    let w: Float64Array;
    if (n >= p) {
      // Centred normal equations from Σ z zᵀ (precomputed, or computed here): Xcᵀ Xc = Σ x xᵀ − n x̄ x̄ᵀ,
      // and Xcᵀ yc = Σ yc_i x_i − x̄ Σ yc_i.
      const q = p + 1;
      let zz = t.zz;
      if (!zz) {
        dense.gram.fill(0);
        dense.addOuter(Int32Array.from({ length: n }, (_, i) => i));
        zz = dense.gram;
      }
      const A = new Float64Array(p * p);
      for (let j = 0; j < p; j++) for (let k = 0; k < p; k++) A[j * p + k] = zz[j * q + k] - n * mean[j] * mean[k];
      for (let j = 0; j < p; j++) A[j * p + j] += alpha;
      dense.weights.set(yc);
      const s = dense.weightedSum();
      const r = new Float64Array(p);
      for (let j = 0; j < p; j++) r[j] = s[j] - mean[j] * s[p];
      w = choleskySolve(A, r, p);
    } else {
      // Fewer samples than features: the dual, an n × n system on the centred rows.
      const row = (i: number, j: number) => x[rows[i] * p + j] - mean[j];
      const K = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let l = i; l < n; l++) {
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
    return { w, b, converged: true, iterations: 0 };
  } finally {
    dense.dispose();
  }
}

/** Fit the named classifier. `seed` and `init` (a warm start) are the SVM's; the ridge classifier is solved in closed form and needs neither. */
export function fitClassifier(name: ClassifierName, t: TrainingSet, seed = 0, init?: LinearModel): Fit {
  return name === 'svm' ? fitLinearSvm(t, { seed, init }) : fitRidge(t);
}

/** Fraction of `rows` (with 0/1 labels y) on the correct side of the model; a tie (f = 0) counts as class 0. */
export function accuracyOf(
  m: LinearModel,
  x: Float64Array,
  p: number,
  rows: ArrayLike<number>,
  y: ArrayLike<number>,
): number {
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
    throw new ConfigError(field, v, CLASSIFIERS.map((c) => `'${c}'`).join(', '));
  }
  return v as ClassifierName;
}
