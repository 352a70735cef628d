/**
 * Small dense float64 matrix helpers shared by the metrics. Pure functions, row-major storage.
 */
import type { Matrix, MatrixLike } from '../types.js';
import { ConfigError } from '../errors.js';

/** Convert `number[][]` or a `Matrix` (float32 or float64) to a float64 `Matrix`, checking its shape. */
export function toMatrix(m: MatrixLike, name = 'matrix'): Matrix & { data: Float64Array } {
  if (Array.isArray(m)) {
    const rows = m.length;
    const cols = rows ? m[0].length : 0;
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = m[i];
      if (!Array.isArray(row) || row.length !== cols) {
        throw new ConfigError(`${name}[${i}].length`, row?.length, `every row of length ${cols} (the length of row 0)`);
      }
      for (let j = 0; j < cols; j++) data[i * cols + j] = row[j];
    }
    return { rows, cols, data };
  }
  if (!m || typeof m.rows !== 'number' || typeof m.cols !== 'number' || !m.data) {
    throw new ConfigError(name, m, 'number[][] or { rows, cols, data }');
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new ConfigError(`${name}.data.length`, m.data.length, `rows × cols = ${m.rows * m.cols}`);
  }
  const data = m.data instanceof Float64Array ? m.data : Float64Array.from(m.data);
  return { rows: m.rows, cols: m.cols, data };
}

/** Build a matrix from a generator of entries. */
export function matrixFrom(
  rows: number,
  cols: number,
  f: (i: number, j: number) => number,
): Matrix & { data: Float64Array } {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = f(i, j);
  return { rows, cols, data };
}

/** Subtract each column's mean (centre the features over examples). */
export function centerColumns(m: Matrix): Matrix & { data: Float64Array } {
  const { rows, cols } = m;
  const out = Float64Array.from(m.data);
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += out[i * cols + j];
    const mean = s / rows;
    for (let i = 0; i < rows; i++) out[i * cols + j] -= mean;
  }
  return { rows, cols, data: out };
}

/** The Gram matrix X Xᵀ (rows × rows). */
export function gram(m: Matrix): Matrix & { data: Float64Array } {
  const { rows, cols, data } = m;
  const out = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let k = i; k < rows; k++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += data[i * cols + j] * data[k * cols + j];
      out[i * rows + k] = s;
      out[k * rows + i] = s;
    }
  }
  return { rows, cols: rows, data: out };
}

/** Double-centre a square matrix: H K H with H = I − 11ᵀ/n. */
export function doubleCenter(k: Matrix): Matrix & { data: Float64Array } {
  const n = k.rows;
  const out = Float64Array.from(k.data);
  const rowMean = new Float64Array(n);
  const colMean = new Float64Array(n);
  let all = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = out[i * n + j];
      rowMean[i] += v / n;
      colMean[j] += v / n;
      all += v;
    }
  }
  all /= n * n;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] += all - rowMean[i] - colMean[j];
  return { rows: n, cols: n, data: out };
}

/** Frobenius inner product of two equally shaped matrices. */
export function frobeniusDot(a: Matrix, b: Matrix): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

/** Throw unless every entry is finite. */
export function requireFinite(m: Matrix, name: string): void {
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      const r = Math.floor(i / m.cols);
      throw new ConfigError(`${name}[${r}, ${i - r * m.cols}]`, m.data[i], 'finite numbers only');
    }
  }
}
