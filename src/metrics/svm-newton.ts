/**
 * The linear SVM's primal solver (svm.ts): Newton's method on the generalised Hessian (Keerthi &
 * DeCoste 2005 — dual coordinate descent needed more than liblinear's 1000 passes on overlapping
 * classes), with an exact line search along the piecewise-quadratic objective.
 */
import { DenseRows } from '../kernels/dense-rows.js';
import { choleskySolve } from '../kernels/cholesky.js';
import type { Fit, LinearModel, TrainingSet } from './linear-model.js';

/** LinearSVC's default tol, which liblinear's primal solver scales as in svmPrimalNewton. */
export const LIBLINEAR_TOL = 1e-4;

/** The primal solver's part of `SvmOptions` (svm.ts), where each is documented with its default. */
export interface NewtonOptions {
  C?: number;
  tol?: number;
  maxNewtonSteps?: number;
  init?: LinearModel;
}

/**
 * Primal Newton for f(v) = ½‖v‖² + C Σ_i max(0, 1 − y_i v·z_i)², z_i = (x_i, 1), v = (w, b):
 * gradient v − 2C Σ_{active} y_i (1 − y_i v·z_i) z_i, generalised Hessian I + 2C Σ_{active} z_i z_iᵀ,
 * exact line search. Stops as liblinear's primal solver does with LinearSVC's tol (default 1e-4):
 * ‖∇f‖ ≤ tol · max(min(#positive, #negative), 1) / n · ‖∇f(0)‖, or after `maxNewtonSteps` (100).
 */
export function svmPrimalNewton(t: TrainingSet, options: NewtonOptions): Fit {
  // The training rows in WebAssembly memory: the margin passes and the Gram updates of every
  // Newton step run there (f64x2); S = Σ_active z zᵀ is its `gram`.
  const dense = new DenseRows(t.x, t.p, t.rows);
  try {
    return newtonIterations(t, options, dense);
  } finally {
    dense.dispose();
  }
}

function newtonIterations(t: TrainingSet, options: NewtonOptions, dense: DenseRows): Fit {
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
