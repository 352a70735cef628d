/**
 * Mean squared canonical correlation (Kornblith et al. 2019, the `cca` function of their notebook):
 * with Qx, Qy orthonormal bases of the column spaces of X and Y,
 *
 *   R²_CCA = ‖Qxᵀ Qy‖²_F / min(px, py),
 *
 * the mean of the squared canonical correlations. Kornblith's notebook does not centre the
 * features; `center: true` (the default here, as CCA is usually defined) removes column means first.
 */
import type { MatrixLike } from '../types.js';
import { centerColumns, requireFinite, toMatrix } from './matrix.js';
import { crossProduct, orthonormalColumns } from './linalg.js';
import { ConfigError } from '../errors.js';

export interface CcaOptions {
  /** Centre the features first. Default true. */
  center?: boolean;
}

export function meanSquaredCCA(X: MatrixLike, Y: MatrixLike, options: CcaOptions = {}): number {
  const x0 = toMatrix(X, 'X'),
    y0 = toMatrix(Y, 'Y');
  if (x0.rows !== y0.rows)
    throw new ConfigError('Y.rows', y0.rows, `the same number of rows (examples) as X, ${x0.rows}`);
  requireFinite(x0, 'X');
  requireFinite(y0, 'Y');
  if (x0.cols > x0.rows || y0.cols > y0.rows)
    throw new ConfigError('X.cols, Y.cols', [x0.cols, y0.cols], `no more features than examples (${x0.rows})`);
  const center = options.center ?? true;
  const qx = orthonormalColumns(center ? centerColumns(x0) : x0);
  const qy = orthonormalColumns(center ? centerColumns(y0) : y0);
  const c = crossProduct(qx, qy);
  let s = 0;
  for (let i = 0; i < c.data.length; i++) s += c.data[i] * c.data[i];
  return s / Math.min(x0.cols, y0.cols);
}
