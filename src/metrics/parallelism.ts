/**
 * Parallelism score (Bernardi et al. 2020, as defined in docs/science.md §3).
 */
import type { MatrixLike } from '../types.js';
import { requireFinite, toMatrix } from './matrix.js';
import { splitConditions } from './dichotomy.js';
import { minCostAssignment } from './assignment.js';
import { ConfigError } from '../errors.js';

/** Result of `parallelismScore`. */
export interface ParallelismResult {
  /** The score, in [−1, 1]. */
  value: number;
  /** `pairing[i]` is the negative condition paired with `positive[i]` (positives sorted ascending). */
  pairing: Array<[number, number]>;
  /** True when the maximum over all one-to-one pairings was taken (≤ 8 conditions per side). */
  exact: boolean;
  /** How the pairing was chosen: 'max-over-pairings' or 'min-distance-assignment'. */
  method: 'max-over-pairings' | 'min-distance-assignment';
}

/** Largest side for which all m! pairings are enumerated. */
export const PS_EXACT_LIMIT = 8;

/**
 * Parallelism score of a dichotomy of the conditions: pair each positive condition with a negative
 * one, form the coding vectors (positive mean − negative mean), normalise them, and average the
 * cosine over all pairs of coding vectors; PS is the maximum of that over all one-to-one pairings
 * (exact up to 8 conditions per side). Beyond, the pairing is the minimum-total-Euclidean-distance
 * assignment (Hungarian method) and `exact` is false. A zero coding vector contributes cosine 0.
 *
 * @param means P × H condition means (rows = conditions).
 * @param positive the conditions on one side (P/2 distinct indices).
 */
export function parallelismScore(means: MatrixLike, positive: number[]): ParallelismResult {
  const x = toMatrix(means, 'means');
  requireFinite(x, 'means');
  const P = x.rows,
    H = x.cols;
  const { positive: pos, negative: neg } = splitConditions(P, positive);
  const m = pos.length;
  if (m < 2)
    throw new ConfigError(
      'positive',
      positive,
      'at least 2 conditions per side (PS averages over pairs of coding vectors)',
    );
  // Unit coding vectors for every (positive i, negative j).
  const unit = new Float64Array(m * m * H);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const off = (i * m + j) * H;
      let ss = 0;
      for (let h = 0; h < H; h++) {
        const v = x.data[pos[i] * H + h] - x.data[neg[j] * H + h];
        unit[off + h] = v;
        ss += v * v;
      }
      const norm = Math.sqrt(ss);
      for (let h = 0; h < H; h++) unit[off + h] = norm > 0 ? unit[off + h] / norm : 0;
    }
  }
  const cos = (i: number, j: number, k: number, l: number) => {
    const a = (i * m + j) * H,
      b = (k * m + l) * H;
    let s = 0;
    for (let h = 0; h < H; h++) s += unit[a + h] * unit[b + h];
    return s;
  };
  const pairs = (m * (m - 1)) / 2;
  const scoreOf = (perm: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < m; i++) for (let k = i + 1; k < m; k++) s += cos(i, perm[i], k, perm[k]);
    return s / pairs;
  };
  const asPairing = (perm: ArrayLike<number>): Array<[number, number]> =>
    Array.from({ length: m }, (_, i) => [pos[i], neg[perm[i]]]);

  if (m <= PS_EXACT_LIMIT) {
    // All cosines between coding vectors, then every permutation (Heap's algorithm).
    const table = new Float64Array(m * m * m * m);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++)
        for (let k = 0; k < m; k++)
          for (let l = 0; l < m; l++) {
            table[((i * m + j) * m + k) * m + l] = cos(i, j, k, l);
          }
    const perm = Int32Array.from({ length: m }, (_, i) => i);
    const score = () => {
      let s = 0;
      for (let i = 0; i < m; i++) for (let k = i + 1; k < m; k++) s += table[((i * m + perm[i]) * m + k) * m + perm[k]];
      return s / pairs;
    };
    let best = score();
    let bestPerm = perm.slice();
    const c = new Int32Array(m);
    let i = 0;
    while (i < m) {
      if (c[i] < i) {
        const j = i % 2 === 0 ? 0 : c[i];
        const t = perm[j];
        perm[j] = perm[i];
        perm[i] = t;
        const s = score();
        if (s > best + 1e-15) {
          best = s;
          bestPerm = perm.slice();
        }
        c[i]++;
        i = 0;
      } else {
        c[i] = 0;
        i++;
      }
    }
    return { value: best, pairing: asPairing(bestPerm), exact: true, method: 'max-over-pairings' };
  }
  const dist = new Float64Array(m * m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let h = 0; h < H; h++) s += (x.data[pos[i] * H + h] - x.data[neg[j] * H + h]) ** 2;
      dist[i * m + j] = Math.sqrt(s);
    }
  const perm = minCostAssignment(dist, m);
  return { value: scoreOf(perm), pairing: asPairing(perm), exact: false, method: 'min-distance-assignment' };
}
