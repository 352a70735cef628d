/**
 * Dimensionality and activity statistics of a representation (rows = observations).
 */
import type { MatrixLike } from '../types.js';
import { centerColumns, requireFinite, toMatrix, gram } from './matrix.js';
import { ConfigError } from '../errors.js';

/**
 * Participation ratio PR = (tr C)² / tr(C²) of the covariance C of the columns of X (rows are
 * observations): (Σλ)² / Σλ², between 1 and the rank. Computed from the smaller Gram matrix
 * (X_c X_cᵀ or X_cᵀ X_c share their non-zero spectrum), no eigendecomposition needed. NaN for a
 * constant matrix.
 */
export function participationRatio(X: MatrixLike): number {
  const x = toMatrix(X, 'X');
  requireFinite(x, 'X');
  if (x.rows < 2) throw new ConfigError('X.rows', x.rows, 'at least 2 observations');
  const c = centerColumns(x);
  const g = c.rows <= c.cols ? gram(c) : gram(transpose(c));
  let tr = 0,
    fro = 0;
  for (let i = 0; i < g.rows; i++) tr += g.data[i * g.rows + i];
  for (let i = 0; i < g.data.length; i++) fro += g.data[i] * g.data[i];
  return (tr * tr) / fro;
}

function transpose(m: { rows: number; cols: number; data: Float64Array }) {
  const out = new Float64Array(m.data.length);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out[j * m.rows + i] = m.data[i * m.cols + j];
  return { rows: m.cols, cols: m.rows, data: out };
}

export interface SparsityOptions {
  /** A unit is active when its activity exceeds this. Default 0. */
  threshold?: number;
  /** Compare |activity| instead of activity (for odd activations like tanh). Default false. */
  absolute?: boolean;
}

/**
 * Fraction of active units: the mean over observations and units of [x > threshold] (or
 * [|x| > threshold] with `absolute`). In [0, 1]; lower is sparser. For ReLU, 'active' is x > 0.
 */
export function sparsity(X: MatrixLike, options: SparsityOptions = {}): number {
  const x = toMatrix(X, 'X');
  requireFinite(x, 'X');
  const t = options.threshold ?? 0;
  let active = 0;
  for (let i = 0; i < x.data.length; i++) if ((options.absolute ? Math.abs(x.data[i]) : x.data[i]) > t) active++;
  return active / x.data.length;
}
