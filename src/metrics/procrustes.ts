/**
 * Shape metrics between two representations of the same examples, after centring the features:
 * the normalised Bures similarity and the orthogonal Procrustes distance (Williams et al. 2021,
 * "Generalized shape metrics on neural representations"; the similarity-measures comparison tables).
 */
import type { MatrixLike } from '../types.js';
import { centerColumns, requireFinite, toMatrix } from './matrix.js';
import { crossProduct, nuclearNorm } from './linalg.js';
import { ConfigError } from '../errors.js';

function centred(X: MatrixLike, Y: MatrixLike) {
  const x = toMatrix(X, 'X'),
    y = toMatrix(Y, 'Y');
  if (x.rows !== y.rows) throw new ConfigError('Y.rows', y.rows, `the same number of rows (examples) as X, ${x.rows}`);
  requireFinite(x, 'X');
  requireFinite(y, 'Y');
  const xc = centerColumns(x),
    yc = centerColumns(y);
  let nx = 0,
    ny = 0;
  for (let i = 0; i < xc.data.length; i++) nx += xc.data[i] * xc.data[i];
  for (let i = 0; i < yc.data.length; i++) ny += yc.data[i] * yc.data[i];
  return { nuclear: nuclearNorm(crossProduct(xc, yc)), nx, ny };
}

/**
 * Normalised Bures similarity NBS(X, Y) = ‖Xcᵀ Yc‖_* / (‖Xc‖_F ‖Yc‖_F), Xc, Yc column-centred
 * (equivalently tr((Kx^½ Ky Kx^½)^½) / √(tr Kx tr Ky) with centred linear kernels). In [0, 1].
 */
export function normalizedBuresSimilarity(X: MatrixLike, Y: MatrixLike): number {
  const { nuclear, nx, ny } = centred(X, Y);
  return nuclear / Math.sqrt(nx * ny);
}

/** Orthogonal Procrustes distances between column-centred X and Y. */
export interface ProcrustesResult {
  /** min over orthogonal R of ‖Xc − Yc R‖²_F = ‖Xc‖² + ‖Yc‖² − 2‖Xcᵀ Yc‖_* (features padded with zeros to equal width). */
  squaredEuclidean: number;
  /** The angular shape distance arccos(NBS(X, Y)), in [0, π/2]. */
  angular: number;
}

/** Orthogonal Procrustes distance (squared Euclidean, unnormalised) and angular shape distance. */
export function procrustes(X: MatrixLike, Y: MatrixLike): ProcrustesResult {
  const { nuclear, nx, ny } = centred(X, Y);
  return {
    squaredEuclidean: Math.max(0, nx + ny - 2 * nuclear),
    angular: Math.acos(Math.min(1, nuclear / Math.sqrt(nx * ny))),
  };
}
