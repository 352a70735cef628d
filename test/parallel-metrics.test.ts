import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../src/parallel/pool.js';
import { shatteringDimensionalityParallel } from '../src/parallel/metrics.js';
import { ccgp, shatteringDimensionality } from '../src/metrics/decoding.js';
import { Rng } from '../src/random.js';
import type { Matrix, StreamRecord } from '../src/types.js';
import { lastValueFrom, toArray } from 'rxjs';
import { trainRuns } from '../src/operators/train.js';
import { probe } from '../src/operators/probe.js';
import { geometry } from '../src/operators/geometry.js';
import { sweepRuns } from '../src/sources/sweep.js';
import { alignedParity } from '../src/sources/aligned-parity.js';
import { initBackend } from '../src/engine/backend.js';
import type { MetricRequest } from '../src/operators/geometry.js';
import { ConfigError } from '../src/errors.js';

/** 8 conditions × 40 noisy samples in 12 dimensions. */
function problem(): { samples: Matrix; conditions: Int32Array } {
  const rng = new Rng(9);
  const P = 8,
    per = 40,
    p = 12;
  const means = Array.from({ length: P }, () => Array.from({ length: p }, () => rng.normal()));
  const data = new Float64Array(P * per * p);
  const conditions = new Int32Array(P * per);
  for (let c = 0; c < P; c++)
    for (let i = 0; i < per; i++) {
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
    expect(await pool.metric('ccgp', samples, conditions, pos, { classifier: 'ridge' })).toEqual(
      ccgp(samples, conditions, pos, { classifier: 'ridge' }),
    );
    await expect(pool.metric('ccgp', samples, conditions, [0, 1, 2], {})).rejects.toThrow(/positive/);
    // A worker's validation error arrives as the one error type, its fields intact.
    const e = await pool.metric('ccgp', samples, conditions, [0, 1, 2], {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toMatchObject({ field: 'positive', received: [0, 1, 2] });
    await expect(
      shatteringDimensionalityParallel(samples, conditions, { dichotomies: [[0, 1, 2]] }, pool),
    ).rejects.toThrow(/options.dichotomies.*\[0,1,2\].*4 distinct conditions/);
  });
});

describe('geometry({ workers })', () => {
  it('emits the same rows in the same order as in one thread', async () => {
    await initBackend();
    const runs = sweepRuns({
      seed: 2,
      grid: { activation: ['tanh', 'relu'] as const },
      seeds: 2,
      run: (p, s) => ({
        task: alignedParity({ d: 3, k: 3, alignment: 0.5, N: 16, sigma: 0.5, seed: s.task }),
        network: { activation: p.activation, width: 12 },
        training: { lr: 0.2, batch: 40, samples: 400, epochs: 2, checkpoints: { steps: [5] } },
      }),
    });
    const metrics: MetricRequest[] = [
      'kernel_alignment',
      'ps',
      { name: 'ccgp', classifier: 'svm' },
      { name: 'sd', classifier: 'svm', steps: 'final' as const },
      { name: 'decodability', classifier: 'ridge' },
    ];
    const rows = async (workers: number) =>
      (
        await lastValueFrom(
          trainRuns(runs).pipe(probe({ samplesPerCondition: 12 }), geometry({ metrics, workers }), toArray()),
        )
      ).filter((r: StreamRecord) => r.kind === 'metric');
    const [one, two] = [await rows(1), await rows(2)];
    expect(one.length).toBeGreaterThan(50);
    expect(two).toEqual(one);
  });
});
