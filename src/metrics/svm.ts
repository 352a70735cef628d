/**
 * A linear SVM like scikit-learn's `LinearSVC()` defaults (liblinear): squared hinge loss, L2
 * penalty, C = 1, an intercept as a constant feature 1 that is penalised too (intercept_scaling =
 * 1). The objective is strictly convex, so its minimiser does not depend on the solver; like
 * scikit-learn's dual = 'auto', we solve the primal when there are more samples than features
 * (Newton's method, svm-newton.ts), else the dual by coordinate descent (Hsieh et al. 2008,
 * liblinear's solver; the visiting order is a seeded permutation per pass, so results are
 * deterministic given the seed).
 */
import { Rng } from '../random.js';
import { DenseRows } from '../kernels/dense-rows.js';
import type { Fit, LinearModel, TrainingSet } from './linear-model.js';
import { svmPrimalNewton } from './svm-newton.js';

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
    const newton = svmPrimalNewton(t, { ...options, init: dual });
    return { ...newton, iterations: dual.iterations + newton.iterations };
  }
  return svmPrimalNewton(t, options);
}

/** Most dual passes tried before switching to Newton's method (see fitLinearSvm). */
const DUAL_FIRST_PASSES = 30;

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
