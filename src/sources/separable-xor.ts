/**
 * The separable XOR family (docs/science.md §1b): four conditions from two ±1 variables a, b with means
 * a·m1 + b·m2 + eps·(a·b)·m3; the target is XOR(a, b). eps = 0 is a pure XOR; eps > 0 makes it
 * linearly separable along m3.
 */
import type { Task } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { Rng } from '../random.js';
import { makeTask } from './task.js';

export interface SeparableXorOptions {
  /** Input dimension, a multiple of 3 (m1, m2, m3 each occupy N/3 coordinates). Default 120. */
  N?: number;
  /** Strength of the separating direction m3, ≥ 0. Default 0. */
  eps?: number;
  /** Noise standard deviation. Default 0.1. */
  sigma?: number;
  /** Seed of the random entries of m1, m2, m3. Default 0. */
  seed?: number;
}

/**
 * Build a separable XOR task. m1, m2, m3 have disjoint supports of N/3 coordinates, entries |ξ|
 * with ξ ~ N(0, 1), each scaled to norm √(N/3). Conditions are ordered (a, b) = (−,−), (+,−),
 * (−,+), (+,+), i.e. bit_0 = (a > 0), bit_1 = (b > 0); target y = 1 where a ≠ b.
 */
export function separableXor(options: SeparableXorOptions = {}): Task {
  const N = requireNumber('N', options.N ?? 120, { integer: true, min: 3 });
  if (N % 3 !== 0) throw new ConfigError('N', N, 'a positive multiple of 3');
  const eps = requireNumber('eps', options.eps ?? 0, { min: 0 });
  const sigma = requireNumber('sigma', options.sigma ?? 0.1, { min: 0 });
  const seed = requireNumber('seed', options.seed ?? 0, { integer: true, min: 0 });
  const rng = new Rng(seed);
  const third = N / 3;
  const m = [0, 1, 2].map((blk) => {
    const v = new Float64Array(N);
    let norm = 0;
    for (let j = 0; j < third; j++) {
      v[blk * third + j] = Math.abs(rng.normal());
      norm += v[blk * third + j] ** 2;
    }
    const s = Math.sqrt(third) / Math.sqrt(norm);
    for (let j = 0; j < third; j++) v[blk * third + j] *= s;
    return v;
  });
  const means = new Float64Array(4 * N);
  const targets = new Float64Array(4);
  const latents = new Float64Array(8);
  for (let p = 0; p < 4; p++) {
    const a = p & 1 ? 1 : -1;
    const b = p & 2 ? 1 : -1;
    for (let j = 0; j < N; j++) means[p * N + j] = a * m[0][j] + b * m[1][j] + eps * a * b * m[2][j];
    targets[p] = a !== b ? 1 : 0;
    latents[p * 2] = p & 1;
    latents[p * 2 + 1] = (p >> 1) & 1;
  }
  return makeTask({
    family: 'separable-xor',
    params: { N, eps, sigma },
    means: { rows: 4, cols: N, data: means },
    targets: { rows: 4, cols: 1, data: targets },
    latents: { rows: 4, cols: 2, data: latents },
    sigma,
    seed,
  });
}
