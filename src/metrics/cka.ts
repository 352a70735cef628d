/**
 * Centered kernel alignment (CKA) and its variants, in float64.
 *
 * References: Cortes, Mohri & Rostamizadeh (2012), "Algorithms for learning kernels based on
 * centered alignment"; Kornblith et al. (2019), "Similarity of neural network representations
 * revisited" (and its public notebook, whose conventions these functions follow); Song et al.
 * (2012) for the unbiased HSIC estimator used by `debiasedCKA`.
 */
import type { Matrix, MatrixLike } from '../types.js';
import { centerColumns, doubleCenter, frobeniusDot, gram, requireFinite, toMatrix } from './matrix.js';
import { ConfigError } from '../errors.js';

function pair(X: MatrixLike, Y: MatrixLike): [Matrix & { data: Float64Array }, Matrix & { data: Float64Array }] {
  const x = toMatrix(X, 'X');
  const y = toMatrix(Y, 'Y');
  if (x.rows !== y.rows) {
    throw new ConfigError('Y.rows', y.rows, `the same number of rows (examples) as X, ${x.rows}`);
  }
  if (x.rows < 2) throw new ConfigError('X.rows', x.rows, 'at least 2 examples');
  requireFinite(x, 'X');
  requireFinite(y, 'Y');
  return [x, y];
}

/** ‖Aᵀ B‖²_F for column-centred A (n × p) and B (n × q). */
function crossNormSq(a: Matrix, b: Matrix): number {
  const n = a.rows,
    p = a.cols,
    q = b.cols;
  const row = new Float64Array(q);
  let s = 0;
  for (let i = 0; i < p; i++) {
    row.fill(0);
    for (let r = 0; r < n; r++) {
      const av = a.data[r * p + i];
      if (av === 0) continue;
      const off = r * q;
      for (let j = 0; j < q; j++) row[j] += av * b.data[off + j];
    }
    for (let j = 0; j < q; j++) s += row[j] * row[j];
  }
  return s;
}

/**
 * Linear CKA of two example-by-feature matrices (same rows), with the biased HSIC estimator:
 *
 *   CKA(X, Y) = ‖Ycᵀ Xc‖²_F / (‖Xcᵀ Xc‖_F ‖Ycᵀ Yc‖_F),   Xc, Yc column-centred,
 *
 * which equals `kernelAlignment(X Xᵀ, Y Yᵀ)`. Features are centred before any product (float32
 * inputs otherwise lose about 1e-4). The Gram or the feature-space form is used, whichever is
 * cheaper for the shapes. Returns a number in [0, 1]; NaN if either matrix is constant.
 */
export function linearCKA(X: MatrixLike, Y: MatrixLike): number {
  const [x0, y0] = pair(X, Y);
  const x = centerColumns(x0);
  const y = centerColumns(y0);
  const n = x.rows,
    p = x.cols,
    q = y.cols;
  const gramCost = n * n * (p + q);
  const featureCost = n * (p * p + q * q + p * q);
  if (gramCost <= featureCost) {
    const kx = gram(x);
    const ky = gram(y);
    return frobeniusDot(kx, ky) / Math.sqrt(frobeniusDot(kx, kx) * frobeniusDot(ky, ky));
  }
  return crossNormSq(x, y) / Math.sqrt(crossNormSq(x, x) * crossNormSq(y, y));
}

function squareKernel(K: MatrixLike, name: string): Matrix & { data: Float64Array } {
  const k = toMatrix(K, name);
  if (k.rows !== k.cols)
    throw new ConfigError(`${name} (rows × cols)`, `${k.rows} × ${k.cols}`, 'a square kernel matrix');
  requireFinite(k, name);
  return k;
}

/**
 * Centered kernel alignment of two kernel (Gram) matrices on the same n examples:
 *
 *   A(K1, K2) = ⟨H K1 H, H K2 H⟩_F / (‖H K1 H‖_F ‖H K2 H‖_F),   H = I − 11ᵀ/n.
 *
 * With linear kernels this is linear CKA. Use it to compare averaged kernels (e.g. the
 * seed-averaged hidden kernel) or a kernel with no feature matrix behind it.
 */
export function kernelAlignment(K1: MatrixLike, K2: MatrixLike): number {
  const a = squareKernel(K1, 'K1');
  const b = squareKernel(K2, 'K2');
  if (a.rows !== b.rows)
    throw new ConfigError('K2 (rows × cols)', `${b.rows} × ${b.cols}`, `the same size as K1, ${a.rows} × ${a.rows}`);
  const ca = doubleCenter(a);
  const cb = doubleCenter(b);
  return frobeniusDot(ca, cb) / Math.sqrt(frobeniusDot(ca, ca) * frobeniusDot(cb, cb));
}

/**
 * Unbiased centring of a Gram matrix (Song et al. 2012, as in Kornblith et al.'s notebook):
 * zero the diagonal, subtract row/column means taken over n − 2, re-zero the diagonal. The
 * Frobenius product of two such matrices is (n(n − 3) times) the unbiased HSIC estimator.
 */
function unbiasedCenter(k: Matrix): Matrix & { data: Float64Array } {
  const n = k.rows;
  const g = Float64Array.from(k.data);
  for (let i = 0; i < n; i++) g[i * n + i] = 0;
  const means = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += g[i * n + j];
    means[j] = s / (n - 2);
  }
  let total = 0;
  for (let j = 0; j < n; j++) total += means[j];
  const shift = total / (2 * (n - 1));
  for (let j = 0; j < n; j++) means[j] -= shift;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] -= means[i] + means[j];
  for (let i = 0; i < n; i++) g[i * n + i] = 0;
  return { rows: n, cols: n, data: g };
}

/**
 * Linear CKA with the unbiased HSIC estimator of Song et al. (2012) in place of the biased one:
 *
 *   dCKA(X, Y) = HSIC₁(K, L) / √(HSIC₁(K, K) HSIC₁(L, L)),   K = X Xᵀ, L = Y Yᵀ,
 *
 * which removes CKA's upward bias when features outnumber examples. Needs at least 4 examples.
 * Can be slightly negative for unrelated representations.
 */
export function debiasedCKA(X: MatrixLike, Y: MatrixLike): number {
  const [x, y] = pair(X, Y);
  if (x.rows < 4) throw new ConfigError('X.rows', x.rows, 'at least 4 examples for the unbiased HSIC estimator');
  const kx = unbiasedCenter(gram(centerColumns(x)));
  const ky = unbiasedCenter(gram(centerColumns(y)));
  return frobeniusDot(kx, ky) / Math.sqrt(frobeniusDot(kx, kx) * frobeniusDot(ky, ky));
}

/** Options of `rbfCKA`. */
export interface RbfCKAOptions {
  /**
   * Bandwidth as a multiple of the median pairwise distance: σ = threshold · √(median of the
   * squared distances), the median taken over the full n × n distance matrix, diagonal zeros
   * included (Kornblith et al.'s convention). Default 1.
   */
  threshold?: number;
}

function rbfKernel(x: Matrix & { data: Float64Array }, threshold: number): Matrix & { data: Float64Array } {
  const n = x.rows;
  const g = gram(x);
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      d2[i * n + j] = Math.max(0, g.data[i * n + i] + g.data[j * n + j] - 2 * g.data[i * n + j]);
    }
  }
  const sorted = Float64Array.from(d2).sort();
  const m = sorted.length;
  const median = m % 2 ? sorted[(m - 1) / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2;
  const out = new Float64Array(n * n);
  const denom = 2 * threshold * threshold * median;
  for (let i = 0; i < n * n; i++) out[i] = denom > 0 ? Math.exp(-d2[i] / denom) : d2[i] === 0 ? 1 : 0;
  return { rows: n, cols: n, data: out };
}

/**
 * CKA with Gaussian (RBF) kernels k(a, b) = exp(−‖a − b‖² / (2σ²)), σ set per matrix from its
 * median pairwise distance (see `RbfCKAOptions.threshold`), then `kernelAlignment` of the two.
 */
export function rbfCKA(X: MatrixLike, Y: MatrixLike, options: RbfCKAOptions = {}): number {
  const threshold = options.threshold ?? 1;
  if (!(threshold > 0) || !Number.isFinite(threshold)) {
    throw new ConfigError('options.threshold', threshold, 'a finite number > 0');
  }
  const [x, y] = pair(X, Y);
  return kernelAlignment(rbfKernel(x, threshold), rbfKernel(y, threshold));
}
