/**
 * Dichotomies of conditions: validation of a `positive` side and the enumeration of balanced
 * dichotomies (each unordered split once: the side holding condition 0 is `positive`).
 */
import { Rng } from '../random.js';
import { ConfigError } from '../errors.js';

/** Check that `positive` is a balanced subset of 0..P−1 and return its complement (both sorted). */
export function splitConditions(
  P: number,
  positive: unknown,
  name = 'positive',
): { positive: number[]; negative: number[] } {
  const ok =
    Array.isArray(positive) &&
    positive.every((c) => Number.isInteger(c) && c >= 0 && c < P) &&
    new Set(positive).size === positive.length &&
    positive.length * 2 === P;
  if (!ok) {
    throw new ConfigError(
      name,
      positive,
      `${P / 2} distinct condition indices in [0, ${P - 1}] (a balanced subset of the ${P} conditions)`,
    );
  }
  const pos = [...(positive as number[])].sort((a, b) => a - b);
  const set = new Set(pos);
  const negative = Array.from({ length: P }, (_, i) => i).filter((i) => !set.has(i));
  return { positive: pos, negative };
}

/** Number of balanced dichotomies of P conditions: C(P, P/2) / 2. */
export function countBalancedDichotomies(P: number): number {
  let c = 1;
  for (let i = 1; i <= P / 2; i++) c = (c * (P - P / 2 + i)) / i;
  return Math.round(c / 2);
}

/**
 * The balanced dichotomies of P (even) conditions, each as its positive side (the side with
 * condition 0), in lexicographic order; when there are more than `max`, a seeded uniform random
 * subset of `max` of them (drawn without enumerating all).
 */
export function balancedDichotomies(P: number, max = Infinity, seed = 0): number[][] {
  if (!Number.isInteger(P) || P < 2 || P % 2)
    throw new ConfigError('conditions (number of distinct)', P, 'an even number >= 2');
  const total = countBalancedDichotomies(P);
  const half = P / 2;
  if (total <= max) {
    const out: number[][] = [];
    const rec = (start: number, acc: number[]) => {
      if (acc.length === half) {
        out.push(acc.slice());
        return;
      }
      for (let i = start; i < P; i++) {
        acc.push(i);
        rec(i + 1, acc);
        acc.pop();
      }
    };
    rec(1, [0]);
    return out;
  }
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: number[][] = [];
  while (out.length < max) {
    const perm = rng.permutation(P - 1);
    const side = [0, ...Array.from(perm.subarray(0, half - 1), (v) => v + 1)].sort((a, b) => a - b);
    const key = side.join(',');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(side);
    }
  }
  return out;
}
