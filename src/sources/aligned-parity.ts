/**
 * The aligned parity task family (docs/science.md §1a): d binary latent variables, P = 2^d conditions,
 * targets the first k parity features, inputs whose kernel has centered alignment `alignment`
 * (c) with the target kernel.
 */
import type { Matrix, Task } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { Rng } from '../random.js';
import { embedRows, makeTask, randomOrthonormalRows } from './task.js';

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
  /** Seed of the random orthonormal embedding Q (and of the Dirichlet draw). Default 0. */
  seed?: number;
  /**
   * How the weights π on the parity features are chosen for the alignment: 'maximal' (default:
   * uniform within the targets and within the others, the most input dimensions), or
   * `{ dirichlet: α }`: a seeded Dirichlet(α) draw moved onto the cos(π, 1_T) = c surface
   * (`dirichletWeights`), random lower-dimensional inputs.
   */
  inputs?: 'maximal' | { dirichlet: number };
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

/**
 * Weights π on the P − 1 features with cos(π, 1_T) = c, from a Dirichlet(α) draw u: π is a convex
 * combination of u and one of two perspective points, the uniform weights on the targets (cos 1)
 * when cos(u, 1_T) < c, else the uniform weights on the other features (cos 0), with the mixing
 * weight solved so that the cosine is c (the cosine is continuous along the segment, so the root
 * is inside it). π stays on the simplex, and keeps u's uneven spread over the features: lower
 * effective dimension than the maximal weights (smaller α, fewer dimensions). Seeded by `rng`.
 */
export function dirichletWeights(P: number, k: number, c: number, alpha: number, rng: Rng): Float64Array {
  const F = P - 1,
    m = F - k;
  if (m === 0)
    throw new ConfigError('k', k, `at most P − 2 = ${P - 2} (with every feature a target, only uniform weights align)`);
  // Gamma draws in logs, normalised by the largest: for small α, Gamma(α) = Gamma(α + 1)·U^(1/α)
  // underflows to 0 in float64 (all P − 1 of them, at times), its logarithm does not.
  const logs = Array.from({ length: F }, () =>
    alpha < 1 ? Math.log(rng.gamma(alpha + 1)) + Math.log(1 - rng.uniform()) / alpha : Math.log(rng.gamma(alpha)),
  );
  const top = Math.max(...logs);
  const u = Float64Array.from(logs, (l) => Math.exp(l - top));
  const total = u.reduce((a, b) => a + b, 0);
  for (let s = 0; s < F; s++) u[s] /= total;
  // c = 0: the surface is π_T = 0; u keeps its spread over the other features.
  if (c === 0) {
    const rest = u.reduce((a, v, s) => (s < k ? a : a + v), 0);
    return Float64Array.from(u, (v, s) => (s < k ? 0 : v / rest));
  }
  const cosOf = (pi: Float64Array) => {
    let t = 0,
      n = 0;
    for (let s = 0; s < F; s++) {
      if (s < k) t += pi[s];
      n += pi[s] * pi[s];
    }
    return t / Math.sqrt(k * n);
  };
  const cu = cosOf(u);
  if (cu === c) return u;
  // The perspective point v, and π(λ) = v + λ(u − v): solve (Σ_T π)² = c² k ‖π‖², a quadratic in λ.
  const v = new Float64Array(F);
  for (let s = 0; s < F; s++) v[s] = cu < c ? (s < k ? 1 / k : 0) : s < k ? 0 : 1 / m;
  let t0 = 0,
    t1 = 0,
    n0 = 0,
    n1 = 0,
    n2 = 0;
  for (let s = 0; s < F; s++) {
    const w = u[s] - v[s];
    if (s < k) {
      t0 += v[s];
      t1 += w;
    }
    n0 += v[s] * v[s];
    n1 += 2 * v[s] * w;
    n2 += w * w;
  }
  const c2k = c * c * k;
  const A = t1 * t1 - c2k * n2,
    B = 2 * t0 * t1 - c2k * n1,
    C = t0 * t0 - c2k * n0;
  const disc = Math.sqrt(Math.max(0, B * B - 4 * A * C));
  const roots = Math.abs(A) < 1e-300 ? [-C / B] : [(-B - disc) / (2 * A), (-B + disc) / (2 * A)];
  // The root in [0, 1] where Σ_T π has the sign of c (the squared equation also holds at −c).
  const lambda = roots.filter((l) => l >= -1e-12 && l <= 1 + 1e-12 && t0 + l * t1 >= 0).sort((a, b) => a - b)[0];
  const pi = new Float64Array(F);
  for (let s = 0; s < F; s++) pi[s] = Math.max(0, v[s] + lambda * (u[s] - v[s]));
  return pi;
}

const INPUTS = "'maximal' or { dirichlet: α } with α > 0";

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
  const inputs = o.inputs ?? 'maximal';
  if (inputs !== 'maximal') {
    if (typeof inputs !== 'object' || inputs === null || Object.keys(inputs).join() !== 'dirichlet')
      throw new ConfigError('inputs', inputs, INPUTS);
    requireNumber('inputs.dirichlet', inputs.dirichlet, { min: 0, exclusiveMin: true });
    // Every feature a target: alignment 1 needs uniform weights, so there is nothing to draw.
    if (k === P - 1) throw new ConfigError('inputs', inputs, `'maximal' when k = P − 1 = ${P - 1}`);
  }
  return { d, k, alignment: c, N, sigma, seed, inputs };
}

/**
 * Build an aligned parity task. Input means mu_p = √N · m_p Q, with m_p = Σ_S √π_S h_S(p) e_S
 * (unit norm) and Q a seeded random (P−1) × N matrix with orthonormal rows; targets are the first
 * k parity features as 0/1 labels, y = (1 − h_S)/2 (so for the single variables, y = the bit).
 * Then CKA(M Mᵀ, (2Y−1)(2Y−1)ᵀ) = cos(π, 1_T) = `alignment`, whichever way π was chosen
 * (`inputs`).
 */
export function alignedParity(options: AlignedParityOptions): Task {
  const { d, k, alignment, N, sigma, seed, inputs } = validateAlignedParity(options);
  const P = 1 << d;
  const F = P - 1;
  const { h } = parityFeatures(d);
  const rng = new Rng(seed);
  const Q = randomOrthonormalRows(F, N, rng);
  // Drawn after Q, so that the maximal variant's embedding is the same with or without it.
  const pi =
    inputs === 'maximal' ? alignedWeights(P, k, alignment) : dirichletWeights(P, k, alignment, inputs.dirichlet, rng);
  const factor = Float64Array.from(h, (v, i) => Math.sqrt(pi[i % F]) * v);
  return makeTask({
    family: 'aligned-parity',
    params: { d, k, alignment, N, sigma, ...(inputs === 'maximal' ? {} : { dirichlet: inputs.dirichlet }) },
    means: { rows: P, cols: N, data: embedRows(factor, P, F, Q, N, Math.sqrt(N)) },
    ...parityLabels(d, k, h),
    sigma,
    seed,
  });
}

/** The first k parity features as 0/1 targets, y = (1 − h)/2, and the d bits as latents (h from `parityFeatures(d)`). */
export function parityLabels(d: number, k: number, h: Float64Array): { targets: Matrix; latents: Matrix } {
  const P = 1 << d,
    F = P - 1;
  const targets = new Float64Array(P * k);
  const latents = new Float64Array(P * d);
  for (let p = 0; p < P; p++) {
    for (let t = 0; t < k; t++) targets[p * k + t] = (1 - h[p * F + t]) / 2;
    for (let i = 0; i < d; i++) latents[p * d + i] = (p >> i) & 1;
  }
  return { targets: { rows: P, cols: k, data: targets }, latents: { rows: P, cols: d, data: latents } };
}
