/**
 * The aligned parity task family (docs/science.md §1a): d binary latent variables, P = 2^d conditions,
 * targets the first k parity features, inputs whose kernel has centered alignment `alignment`
 * (c) with the target kernel.
 */
import type { Task } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { Rng } from '../random.js';
import { makeTask, randomOrthonormalRows } from './task.js';

export interface AlignedParityOptions {
  /** Number of binary latent variables; P = 2^d conditions. Integer in [1, 10]. */
  d: number;
  /** Number of targets: the first k parity features (1 ≤ k ≤ P − 1). */
  k: number;
  /** Requested CKA between input and target kernels, c in [0, 1] (c < 1 needs k < P − 1). */
  alignment: number;
  /** Input dimension (≥ P − 1). Default 100. */
  N?: number;
  /** Noise standard deviation of samples. Default 1. */
  sigma?: number;
  /** Seed of the random orthonormal embedding Q. Default 0. */
  seed?: number;
}

/**
 * The P − 1 parity features h_S(p) = ∏_{i∈S} (1 − 2·bit_i(p)) over non-empty subsets S of the d
 * variables, ordered by subset size, then lexicographically; the first d are the variables.
 * Returns the subsets and a (P × (P−1)) ±1 matrix.
 */
export function parityFeatures(d: number): { subsets: number[][]; h: Float64Array } {
  const P = 1 << d;
  const subsets: number[][] = [];
  for (let size = 1; size <= d; size++) {
    const rec = (start: number, acc: number[]) => {
      if (acc.length === size) {
        subsets.push(acc.slice());
        return;
      }
      for (let i = start; i < d; i++) {
        acc.push(i);
        rec(i + 1, acc);
        acc.pop();
      }
    };
    rec(0, []);
  }
  const F = subsets.length;
  const h = new Float64Array(P * F);
  for (let p = 0; p < P; p++) {
    for (let s = 0; s < F; s++) {
      let v = 1;
      for (const i of subsets[s]) v *= 1 - 2 * ((p >> i) & 1);
      h[p * F + s] = v;
    }
  }
  return { subsets, h };
}

/**
 * The maximal-dimensional weights π on the P − 1 features for a requested alignment c: uniform
 * a/k within the k target features, uniform b/m within the m = P − 1 − k others, a + b = 1, with
 * cos(π, 1_T) = c. Solving c²(a² + r b²) = a² with r = k/m gives a = c√r / (c√r + √(1 − c²)).
 */
export function alignedWeights(P: number, k: number, c: number): Float64Array {
  const m = P - 1 - k;
  const pi = new Float64Array(P - 1);
  let a: number;
  if (m === 0) a = 1;
  else {
    const sr = c * Math.sqrt(k / m);
    a = c >= 1 ? 1 : sr / (sr + Math.sqrt(1 - c * c));
  }
  const b = 1 - a;
  for (let s = 0; s < P - 1; s++) pi[s] = s < k ? a / k : b / m;
  return pi;
}

/** Check the options of `alignedParity`; throws a `ConfigError` naming the field. */
export function validateAlignedParity(o: AlignedParityOptions): Required<AlignedParityOptions> {
  const d = requireNumber('d', o.d, { integer: true, min: 1, max: 10 });
  const P = 1 << d;
  const k = requireNumber('k', o.k, { integer: true, min: 1, max: P - 1 });
  const c = requireNumber('alignment', o.alignment, { min: 0, max: 1 });
  if (k === P - 1 && c !== 1) {
    throw new ConfigError(
      'alignment',
      c,
      `1 only, when k = P − 1 = ${P - 1} (every parity is a target, so the input kernel always aligns fully)`,
    );
  }
  const N = requireNumber('N', o.N ?? 100, { integer: true, min: P - 1 });
  const sigma = requireNumber('sigma', o.sigma ?? 1, { min: 0 });
  const seed = requireNumber('seed', o.seed ?? 0, { integer: true, min: 0 });
  return { d, k, alignment: c, N, sigma, seed };
}

/**
 * Build an aligned parity task. Input means mu_p = √N · m_p Q, with m_p = Σ_S √π_S h_S(p) e_S
 * (unit norm) and Q a seeded random (P−1) × N matrix with orthonormal rows; targets are the first
 * k parity features as 0/1 labels, y = (1 − h_S)/2 (so for the single variables, y = the bit).
 * Then CKA(M Mᵀ, (2Y−1)(2Y−1)ᵀ) = cos(π, 1_T) = `alignment`.
 */
export function alignedParity(options: AlignedParityOptions): Task {
  const { d, k, alignment, N, sigma, seed } = validateAlignedParity(options);
  const P = 1 << d;
  const F = P - 1;
  const { h } = parityFeatures(d);
  const pi = alignedWeights(P, k, alignment);
  const Q = randomOrthonormalRows(F, N, new Rng(seed));
  const scale = Math.sqrt(N);
  const means = new Float64Array(P * N);
  for (let p = 0; p < P; p++) {
    for (let s = 0; s < F; s++) {
      const coef = scale * Math.sqrt(pi[s]) * h[p * F + s];
      if (coef === 0) continue;
      for (let j = 0; j < N; j++) means[p * N + j] += coef * Q[s * N + j];
    }
  }
  const targets = new Float64Array(P * k);
  const latents = new Float64Array(P * d);
  for (let p = 0; p < P; p++) {
    for (let t = 0; t < k; t++) targets[p * k + t] = (1 - h[p * F + t]) / 2;
    for (let i = 0; i < d; i++) latents[p * d + i] = (p >> i) & 1;
  }
  return makeTask({
    family: 'aligned-parity',
    params: { d, k, alignment, N, sigma },
    means: { rows: P, cols: N, data: means },
    targets: { rows: P, cols: k, data: targets },
    latents: { rows: P, cols: d, data: latents },
    sigma,
    seed,
  });
}
