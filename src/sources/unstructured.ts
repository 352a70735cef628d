/**
 * Unstructured patterns (docs/science.md §1c): P cluster means drawn from N(0, I_N) and centred, with
 * targets a balanced dichotomy (given or random) or the rows of a Hadamard matrix.
 */
import type { Task } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { Rng } from '../random.js';
import { makeTask } from './task.js';

export interface UnstructuredOptions {
  /** Number of conditions (≥ 2). Default 4. */
  P?: number;
  /** Input dimension. Default 200. */
  N?: number;
  /** Noise standard deviation. Default 1. */
  sigma?: number;
  /**
   * Targets: `{ positive: [...] }` a dichotomy given by the conditions labelled 1 (the classic
   * setting: [0, 3] of 4); `'random-dichotomy'` a seeded balanced split; `'hadamard'` the P − 1
   * non-constant columns of a Sylvester Hadamard matrix as 0/1 targets (P a power of 2).
   * Default `{ positive: [0, 3] }` when P = 4, else 'random-dichotomy'.
   */
  targets?: { positive: number[] } | 'random-dichotomy' | 'hadamard';
  /** Seed of the patterns (and of a random dichotomy). Default 0. */
  seed?: number;
}

/** Build an unstructured-patterns task. */
export function unstructured(options: UnstructuredOptions = {}): Task {
  const P = requireNumber('P', options.P ?? 4, { integer: true, min: 2, max: 4096 });
  const N = requireNumber('N', options.N ?? 200, { integer: true, min: 1 });
  const sigma = requireNumber('sigma', options.sigma ?? 1, { min: 0 });
  const seed = requireNumber('seed', options.seed ?? 0, { integer: true, min: 0 });
  const spec = options.targets ?? (P === 4 ? { positive: [0, 3] } : 'random-dichotomy');
  const rng = new Rng(seed);
  const means = new Float64Array(P * N);
  rng.fillNormal(means);
  for (let j = 0; j < N; j++) {
    let s = 0;
    for (let p = 0; p < P; p++) s += means[p * N + j];
    for (let p = 0; p < P; p++) means[p * N + j] -= s / P;
  }
  let targets: Float64Array;
  let K = 1;
  let label: string;
  if (spec === 'hadamard') {
    if ((P & (P - 1)) !== 0) throw new ConfigError('P', P, "a power of 2 with targets = 'hadamard'");
    K = P - 1;
    targets = new Float64Array(P * K);
    // Sylvester Hadamard entry (p, q) = (−1)^popcount(p & q); column 0 is constant and dropped.
    for (let p = 0; p < P; p++)
      for (let q = 1; q < P; q++) {
        let b = p & q,
          pc = 0;
        while (b) {
          pc += b & 1;
          b >>= 1;
        }
        targets[p * K + q - 1] = pc % 2;
      }
    label = 'hadamard';
  } else {
    let positive: number[];
    if (spec === 'random-dichotomy') {
      if (P % 2) throw new ConfigError('P', P, "an even number with targets = 'random-dichotomy'");
      positive = Array.from(rng.permutation(P).subarray(0, P / 2)).sort((a, b) => a - b);
    } else if (spec && Array.isArray((spec as { positive?: unknown }).positive)) {
      positive = (spec as { positive: number[] }).positive;
      const ok =
        positive.length > 0 &&
        positive.length < P &&
        new Set(positive).size === positive.length &&
        positive.every((c) => Number.isInteger(c) && c >= 0 && c < P);
      if (!ok)
        throw new ConfigError(
          'targets.positive',
          positive,
          `distinct condition indices in [0, ${P - 1}], at least one and fewer than P`,
        );
    } else {
      throw new ConfigError('targets', spec, "{ positive: number[] }, 'random-dichotomy' or 'hadamard'");
    }
    targets = new Float64Array(P);
    for (const c of positive) targets[c] = 1;
    label = `positive=${positive.join('+')}`;
  }
  return makeTask({
    family: 'unstructured',
    params: { P, N, sigma, targets: label },
    means: { rows: P, cols: N, data: means },
    targets: { rows: P, cols: K, data: targets },
    latents: null,
    sigma,
    seed,
  });
}
