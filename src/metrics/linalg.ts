/**
 * Small dense float64 linear algebra for the metrics that need it (CCA, Procrustes / Bures):
 * thin QR by modified Gram–Schmidt (re-orthogonalised), and the eigenvalues of a symmetric matrix
 * by cyclic Jacobi rotations. Sizes here are features × features (at most a few hundred).
 */
import type { Matrix } from '../types.js';

/**
 * Orthonormal basis of the column space of A (n × p, n ≥ p): Q (n × r) by modified Gram–Schmidt
 * done twice; columns whose remaining norm falls below 1e-12 of the largest column norm are
 * dropped, so r is the numerical rank.
 */
export function orthonormalColumns(A: Matrix): Matrix & { data: Float64Array } {
  const { rows: n, cols: p } = A;
  const cols: Float64Array[] = [];
  let scale = 0;
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += A.data[i * p + j] ** 2;
    scale = Math.max(scale, Math.sqrt(s));
  }
  for (let j = 0; j < p; j++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = A.data[i * p + j];
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        let d = 0;
        for (let i = 0; i < n; i++) d += q[i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= d * q[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    if (norm > 1e-12 * scale) cols.push(v.map((x) => x / norm));
  }
  const r = cols.length;
  const data = new Float64Array(n * r);
  cols.forEach((q, j) => {
    for (let i = 0; i < n; i++) data[i * r + j] = q[i];
  });
  return { rows: n, cols: r, data };
}

/** Aᵀ B for A (n × p) and B (n × q): p × q. */
export function crossProduct(A: Matrix, B: Matrix): Matrix & { data: Float64Array } {
  const n = A.rows,
    p = A.cols,
    q = B.cols;
  const out = new Float64Array(p * q);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) {
      const v = A.data[i * p + a];
      if (v === 0) continue;
      for (let b = 0; b < q; b++) out[a * q + b] += v * B.data[i * q + b];
    }
  }
  return { rows: p, cols: q, data: out };
}

/** Eigenvalues of a symmetric matrix (n × n), by cyclic Jacobi rotations to 1e-15 off-diagonal mass. */
export function symmetricEigenvalues(S: Matrix): Float64Array {
  const n = S.rows;
  const a = Float64Array.from(S.data);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0,
      total = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const v = a[i * n + j] ** 2;
        total += v;
        if (i !== j) off += v;
      }
    if (off <= 1e-30 * Math.max(total, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p],
          aqq = a[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p],
            akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k],
            aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => a[i * n + i]);
}

/** Nuclear norm (sum of singular values) of M: Σ √λ of the eigenvalues λ of Mᵀ M (or M Mᵀ, the smaller). */
export function nuclearNorm(M: Matrix): number {
  const t = M.rows < M.cols;
  const g = t ? crossProduct(transposeOf(M), transposeOf(M)) : crossProduct(M, M);
  let s = 0;
  for (const l of symmetricEigenvalues(g)) s += Math.sqrt(Math.max(l, 0));
  return s;
}

function transposeOf(M: Matrix): Matrix & { data: Float64Array } {
  const out = new Float64Array(M.rows * M.cols);
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.cols; j++) out[j * M.rows + i] = M.data[i * M.cols + j];
  return { rows: M.cols, cols: M.rows, data: out };
}
