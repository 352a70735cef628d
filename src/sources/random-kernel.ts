/**
 * The random-kernel task (docs/science.md §1a, variants): the conditions and targets of the
 * aligned parity task on d = log2 P variables (the first k parity features), with an input kernel
 * that is a random PSD matrix of chosen rank on the non-target features, mixed with the target
 * kernel so that CKA(Kx, Ky) = c exactly.
 */
import type { Task } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { Rng } from '../random.js';
import { embedRows, makeTask, randomOrthonormalRows } from './task.js';
import { parityFeatures, parityLabels } from './aligned-parity.js';

export interface RandomKernelOptions {
  /** Number of conditions, a power of 2 from 4 to 1024 (the 2^d assignments of d binary variables). */
  P: number;
  /** Number of targets: the first k parity features (1 ≤ k ≤ P − 2). */
  k: number;
  /** CKA between the input and target kernels, c in [0, 1]. */
  alignment: number;
  /** Rank of the kernel's random part, on the non-target features (1 ≤ rank ≤ P − 1 − k). */
  rank: number;
  /** Input dimension (≥ k + rank). Default 100. */
  N?: number;
  /** Noise standard deviation of samples. Default 1. */
  sigma?: number;
  /** Seed of the random part and of the embedding. Default 0. */
  seed?: number;
}

/**
 * Build a random-kernel task. With T the P × k target features (±1 parities) and G a seeded
 * Gaussian P × rank matrix with the constant and the target features projected out, the input
 * kernel is Kx = c·A + √(1 − c²)·B, A = T Tᵀ/‖T Tᵀ‖_F, B = G Gᵀ/‖G Gᵀ‖_F. A and B are centred and
 * Frobenius-orthogonal (Tᵀ G = 0), so ‖Kx‖_F = 1 and CKA(Kx, Ky) = ⟨Kx, A⟩ = c. The means are a
 * factor of Kx (M = [√(c/‖TTᵀ‖)·T, (1 − c²)^¼/√‖GGᵀ‖·G], M Mᵀ = Kx: the same kernel as an
 * eigendecomposition's factor, without computing one), embedded by a seeded orthonormal map into
 * N dimensions and scaled so that the mean squared norm of a mean is N, as in aligned parity. The
 * input rank is k + rank for 0 < c < 1 (rank at c = 0, k at c = 1).
 */
export function randomKernel(options: RandomKernelOptions): Task {
  const P = requireNumber('P', options.P, { integer: true, min: 4, max: 1024 });
  if ((P & (P - 1)) !== 0) throw new ConfigError('P', P, 'a power of 2 from 4 to 1024');
  const d = Math.log2(P);
  const k = requireNumber('k', options.k, { integer: true, min: 1, max: P - 2 });
  const c = requireNumber('alignment', options.alignment, { min: 0, max: 1 });
  const rank = requireNumber('rank', options.rank, { integer: true, min: 1, max: P - 1 - k });
  const N = requireNumber('N', options.N ?? 100, { integer: true, min: k + rank });
  const sigma = requireNumber('sigma', options.sigma ?? 1, { min: 0 });
  const seed = requireNumber('seed', options.seed ?? 0, { integer: true, min: 0 });

  const F = P - 1;
  const { h } = parityFeatures(d);
  const rng = new Rng(seed);
  // G: Gaussian, minus its projection on the constant and on each target feature (orthogonal, norm² P).
  const G = rng.fillNormal(new Float64Array(P * rank));
  for (let j = 0; j < rank; j++) {
    let mean = 0;
    for (let p = 0; p < P; p++) mean += G[p * rank + j] / P;
    for (let p = 0; p < P; p++) G[p * rank + j] -= mean;
    for (let t = 0; t < k; t++) {
      let dot = 0;
      for (let p = 0; p < P; p++) dot += h[p * F + t] * G[p * rank + j];
      for (let p = 0; p < P; p++) G[p * rank + j] -= (dot / P) * h[p * F + t];
    }
  }
  // ‖T Tᵀ‖_F = P √k (the features are orthogonal with norm² P); ‖G Gᵀ‖_F = ‖Gᵀ G‖_F.
  const normA = P * Math.sqrt(k);
  let normB = 0;
  for (let i = 0; i < rank; i++)
    for (let j = 0; j < rank; j++) {
      let s = 0;
      for (let p = 0; p < P; p++) s += G[p * rank + i] * G[p * rank + j];
      normB += s * s;
    }
  normB = Math.sqrt(normB);
  const D = k + rank;
  const factor = new Float64Array(P * D);
  const a = Math.sqrt(c / normA),
    b = Math.sqrt(Math.sqrt(1 - c * c) / normB);
  for (let p = 0; p < P; p++) {
    for (let t = 0; t < k; t++) factor[p * D + t] = a * h[p * F + t];
    for (let j = 0; j < rank; j++) factor[p * D + k + j] = b * G[p * rank + j];
  }
  let trace = 0;
  for (const v of factor) trace += v * v;
  const scale = Math.sqrt((N * P) / trace);
  const Q = randomOrthonormalRows(D, N, rng);
  return makeTask({
    family: 'random-kernel',
    params: { P, k, alignment: c, rank, N, sigma },
    means: { rows: P, cols: N, data: embedRows(factor, P, D, Q, N, scale) },
    ...parityLabels(d, k, h),
    sigma,
    seed,
  });
}
