import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../src/engine/pool.js';
import { shatteringDimensionalityParallel } from '../src/engine/parallel-metrics.js';
import { ccgp, shatteringDimensionality } from '../src/metrics/decoding.js';
import { Rng } from '../src/random.js';
import type { Matrix } from '../src/types.js';

/** 8 conditions × 40 noisy samples in 12 dimensions. */
function problem(): { samples: Matrix; conditions: Int32Array } {
  const rng = new Rng(9);
  const P = 8, per = 40, p = 12;
  const means = Array.from({ length: P }, () => Array.from({ length: p }, () => rng.normal()));
  const data = new Float64Array(P * per * p);
  const conditions = new Int32Array(P * per);
  for (let c = 0; c < P; c++) for (let i = 0; i < per; i++) {
    conditions[c * per + i] = c;
    for (let j = 0; j < p; j++) data[(c * per + i) * p + j] = means[c][j] + 1.5 * rng.normal();
  }
  return { samples: { rows: P * per, cols: p, data }, conditions };
}

describe('metrics on a worker pool', () => {
  const pool = new WorkerPool(2);
  afterAll(() => pool.close());
  const { samples, conditions } = problem();

  it('gives the shattering dimensionality of the single-threaded call, dichotomy by dichotomy', async () => {
    for (const classifier of ['svm', 'ridge'] as const) {
      const one = shatteringDimensionality(samples, conditions, { classifier, folds: 4, seed: 3 });
      const two = await shatteringDimensionalityParallel(samples, conditions, { classifier, folds: 4, seed: 3 }, pool);
      expect(two.dichotomies).toEqual(one.dichotomies);
      expect(two.accuracies).toEqual(one.accuracies);
      expect(two.value).toBe(one.value);
      expect(two.exhaustive).toBe(true);
    }
  });

  it('runs a named metric with the same result, and rejects with its error message', async () => {
    const pos = [0, 2, 4, 6];
    expect(await pool.metric('ccgp', samples, conditions, pos, { classifier: 'ridge' })).toEqual(ccgp(samples, conditions, pos, { classifier: 'ridge' }));
    await expect(pool.metric('ccgp', samples, conditions, [0, 1, 2], {})).rejects.toThrow(/positive/);
    await expect(shatteringDimensionalityParallel(samples, conditions, { dichotomies: [[0, 1, 2]] }, pool)).rejects.toThrow(/options.dichotomies.*\[0,1,2\].*4 distinct conditions/);
  });
});
