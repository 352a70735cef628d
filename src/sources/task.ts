/**
 * What every task family shares: building the `Task` record and its seeded sampler.
 */
import type { Matrix, SampleBatch, Scalar, Task } from '../types.js';
import { Rng, canonicalJson } from '../random.js';

export interface TaskParts {
  family: Task['family'];
  params: Record<string, Scalar>;
  means: Matrix & { data: Float64Array };
  targets: Matrix;
  latents: Matrix | null;
  sigma: number;
  seed: number;
}

/** Assemble a `Task` whose sampler draws x = mu_p + sigma·ξ, ξ ~ N(0, I), p uniform. */
export function makeTask(parts: TaskParts): Task {
  const { means, sigma } = parts;
  const P = means.rows;
  const N = means.cols;
  const draw = (conditions: Int32Array, rng: Rng): SampleBatch => {
    const n = conditions.length;
    const x = new Float32Array(n * N);
    for (let i = 0; i < n; i++) {
      const off = conditions[i] * N;
      for (let j = 0; j < N; j++) x[i * N + j] = means.data[off + j] + sigma * rng.normal();
    }
    return { n, x, conditions };
  };
  const sample = (n: number, seed: number): SampleBatch => {
    const rng = new Rng(seed);
    const conditions = new Int32Array(n);
    for (let i = 0; i < n; i++) conditions[i] = rng.int(P);
    return draw(conditions, rng);
  };
  const sampleBalanced = (perCondition: number, seed: number): SampleBatch => {
    const conditions = new Int32Array(P * perCondition);
    for (let i = 0; i < conditions.length; i++) conditions[i] = Math.floor(i / perCondition);
    return draw(conditions, new Rng(seed));
  };
  return {
    id: `${parts.family}${canonicalJson({ ...parts.params, seed: parts.seed })}`,
    family: parts.family,
    params: parts.params,
    P,
    N,
    K: parts.targets.cols,
    sigma,
    means,
    targets: parts.targets,
    latents: parts.latents,
    seed: parts.seed,
    sample,
    sampleBalanced,
  };
}

/**
 * A random (rows × n) matrix with orthonormal rows, from Gram–Schmidt on Gaussian rows (done
 * twice for float64 orthogonality to ~1e-15). Requires rows ≤ n.
 */
export function randomOrthonormalRows(rows: number, n: number, rng: Rng): Float64Array {
  const q = new Float64Array(rows * n);
  for (let i = 0; i < rows; i++) {
    const v = q.subarray(i * n, (i + 1) * n);
    let norm = 0;
    do {
      for (let j = 0; j < n; j++) v[j] = rng.normal();
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < i; k++) {
          const u = q.subarray(k * n, (k + 1) * n);
          let d = 0;
          for (let j = 0; j < n; j++) d += u[j] * v[j];
          for (let j = 0; j < n; j++) v[j] -= d * u[j];
        }
      }
      norm = 0;
      for (let j = 0; j < n; j++) norm += v[j] * v[j];
      norm = Math.sqrt(norm);
    } while (norm < 1e-8);
    for (let j = 0; j < n; j++) v[j] /= norm;
  }
  return q;
}

/**
 * Rows of P points in N dimensions from their coordinates in D: scale · factor Q, with factor
 * P × D and Q D × N (orthonormal rows), both row-major. Zero coordinates are skipped.
 */
export function embedRows(
  factor: Float64Array,
  P: number,
  D: number,
  Q: Float64Array,
  N: number,
  scale: number,
): Float64Array {
  const out = new Float64Array(P * N);
  for (let p = 0; p < P; p++)
    for (let e = 0; e < D; e++) {
      const coef = scale * factor[p * D + e];
      if (coef === 0) continue;
      for (let j = 0; j < N; j++) out[p * N + j] += coef * Q[e * N + j];
    }
  return out;
}
