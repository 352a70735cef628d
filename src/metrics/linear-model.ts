/**
 * The linear models the decoding metrics fit, and what they are fitted on: pure types and the
 * accuracy of a fitted model (see classifiers.ts for the solvers).
 */

/** A linear decision function f(x) = w·x + b; class 1 where f(x) > 0. */
export interface LinearModel {
  w: Float64Array;
  b: number;
}

/**
 * A fitted model and how its solver ended: `converged` is true when the solver's stopping rule
 * was met (the closed-form ridge always is; so is a Newton line search that can make no more
 * progress), false when it stopped at its iteration limit first; `iterations` counts Newton steps
 * and dual passes (both, when the dual's first passes hand over to Newton).
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
