import { describe, expect, it } from 'vitest';
import { ccgp, decodability } from '../src/metrics/decoding.js';
import { parallelismScore } from '../src/metrics/parallelism.js';
import { linearCKA } from '../src/metrics/cka.js';
import { geometricNull, nullTest, permutedRows, shuffledConditions, shuffledUnits } from '../src/metrics/nulls.js';
import { Rng } from '../src/random.js';
import type { Matrix } from '../src/types.js';
import { lastValueFrom, toArray } from 'rxjs';
import { trainRuns } from '../src/operators/train.js';
import { probe } from '../src/operators/probe.js';
import { geometry, type MetricRequest } from '../src/operators/geometry.js';
import { WorkerPool } from '../src/parallel/pool.js';
import { sweepRuns } from '../src/sources/sweep.js';
import { alignedParity } from '../src/sources/aligned-parity.js';

/** Noisy samples of 8 conditions at given centroids (8 × p), `per` each. */
function cloud(centroids: number[][], per: number, sigma: number, seed: number) {
  const rng = new Rng(seed);
  const p = centroids[0].length;
  const rows: number[][] = [];
  const conditions: number[] = [];
  centroids.forEach((c, k) => {
    for (let i = 0; i < per; i++) {
      rows.push(c.map((v) => v + sigma * rng.normal()));
      conditions.push(k);
    }
  });
  return {
    samples: { rows: rows.length, cols: p, data: Float64Array.from(rows.flat()) } as Matrix,
    conditions: Int32Array.from(conditions),
  };
}

/**
 * A factorised geometry: the 4-cube, condition k at (±1, ±1, ±1, ±1) from its bits, embedded in 10
 * dimensions by a seeded Gaussian map (so that every unit mixes the variables: with the bits as
 * units, shuffling a unit's ±1 values can rebuild a cube). 16 conditions: 8 random points come
 * close enough to factorised, now and then, to tie a perfect CCGP.
 */
const embedding = (() => {
  const rng = new Rng(7);
  return Array.from({ length: 4 }, () => Array.from({ length: 10 }, () => rng.normal()));
})();
const cube = Array.from({ length: 16 }, (_, k) => {
  const bits = [0, 1, 2, 3].map((b) => ((k >> b) & 1 ? 1 : -1));
  return Array.from({ length: 10 }, (_, j) => bits.reduce((s, v, b) => s + v * embedding[b][j], 0));
});
const bit0 = [1, 3, 5, 7, 9, 11, 13, 15];

describe('null models', () => {
  it('the permutation p-value is (1 + #{null ≥ value}) / (1 + n), seeded', () => {
    let i = 0;
    const seq = () => [0.1, 0.5, 0.9, 0.3][i++ % 4];
    expect(nullTest(1, seq, { samples: 4 })).toMatchObject({ p_value: 1 / 5, null_mean: 0.45, null_samples: 4 });
    i = 0;
    expect(nullTest(0.5, seq, { samples: 4 }).p_value).toBe(3 / 5);
    expect(nullTest(0.5, seq, { samples: 4 }).null_sd).toBeCloseTo(
      Math.sqrt((0.35 ** 2 + 0.05 ** 2 + 0.45 ** 2 + 0.15 ** 2) / 3),
      12,
    );
    const a = nullTest(0, (rng) => rng.normal(), { seed: 3 });
    expect(nullTest(0, (rng) => rng.normal(), { seed: 3 })).toEqual(a);
    expect(nullTest(0, (rng) => rng.normal(), { seed: 4 })).not.toEqual(a);
    expect(() => nullTest(0, () => 0, { samples: 1 })).toThrow(/null.samples: received 1/);
  });
  it('on a cube (four factorised variables) CCGP and PS are far above their nulls: p ≤ 0.01 with 100 samples', () => {
    const { samples, conditions } = cloud(cube, 8, 0.3, 1);
    const ridge = { classifier: 'ridge' as const };
    const value = ccgp(samples, conditions, bit0, ridge).value;
    const geometric = nullTest(
      value,
      (rng) => ccgp(geometricNull(samples, conditions, rng), conditions, bit0, ridge).value,
      { samples: 100 },
    );
    const shuffle = nullTest(value, (rng) => ccgp(samples, shuffledConditions(conditions, rng), bit0, ridge).value, {
      samples: 100,
    });
    expect(value).toBeGreaterThan(0.95);
    expect(geometric.p_value).toBeLessThanOrEqual(0.01);
    expect(shuffle.p_value).toBeLessThanOrEqual(0.01);
    expect(shuffle.null_mean).toBeCloseTo(0.5, 1);
    const means = { rows: 16, cols: 10, data: Float64Array.from(cube.flat()) };
    const ps = parallelismScore(means, bit0).value;
    const psNull = nullTest(ps, (rng) => parallelismScore(shuffledUnits(means, rng), bit0).value, { samples: 100 });
    expect(ps).toBeCloseTo(1, 12);
    expect(psNull.p_value).toBeLessThanOrEqual(0.01);
    // Decodability of a variable against shuffled labels, and CKA against permuted conditions.
    const labels = Array.from({ length: 16 }, (_, k) => k & 1);
    const dec = decodability(samples, conditions, labels, { classifier: 'ridge', folds: 5 }).value;
    expect(
      nullTest(
        dec,
        (rng) =>
          decodability(samples, shuffledConditions(conditions, rng), labels, { classifier: 'ridge', folds: 5 }).value,
        { samples: 100 },
      ).p_value,
    ).toBeLessThanOrEqual(0.01);
    const Y = { rows: 16, cols: 1, data: Float64Array.from(labels, (l) => 2 * l - 1) };
    const cka = linearCKA(means, Y);
    const ckaNull = nullTest(cka, (rng) => linearCKA(permutedRows(means, rng), Y), { samples: 100 });
    expect(ckaNull.null_mean).toBeLessThan(cka);
  });
  it('on random points the geometric-null p-value of CCGP is about uniform over seeds', () => {
    const ps: number[] = [];
    for (let seed = 0; seed < 50; seed++) {
      const rng = new Rng(1000 + seed);
      const centroids = Array.from({ length: 8 }, () => Array.from({ length: 10 }, () => rng.normal()));
      const { samples, conditions } = cloud(centroids, 6, 0.3, seed);
      const ridge = { classifier: 'ridge' as const };
      const value = ccgp(samples, conditions, [1, 3, 5, 7], ridge).value;
      ps.push(
        nullTest(value, (r) => ccgp(geometricNull(samples, conditions, r), conditions, [1, 3, 5, 7], ridge).value, {
          samples: 40,
          seed,
        }).p_value,
      );
    }
    // Kolmogorov–Smirnov distance to U(0, 1): below 0.23, the 1 % critical value for 50 draws.
    const sorted = [...ps].sort((a, b) => a - b);
    const ks = Math.max(...sorted.map((p, i) => Math.max(Math.abs((i + 1) / 50 - p), Math.abs(p - i / 50))));
    expect(ks).toBeLessThan(0.23);
    expect(ps.filter((p) => p <= 0.05).length).toBeLessThanOrEqual(8);
  }, 120_000);
  it('the geometric null keeps each cloud and moves its centroid; shuffles permute', () => {
    const { samples, conditions } = cloud(cube, 5, 0.3, 2);
    const moved = geometricNull(samples, conditions, new Rng(1));
    // Within a condition, the differences between samples are unchanged.
    for (let j = 0; j < 10; j++)
      expect(moved.data[1 * 10 + j] - moved.data[0 * 10 + j]).toBeCloseTo(samples.data[10 + j] - samples.data[j], 12);
    const sh = shuffledConditions(conditions, new Rng(1));
    expect([...sh].sort()).toEqual([...conditions].sort());
    const means = { rows: 16, cols: 10, data: Float64Array.from(cube.flat()) };
    const u = shuffledUnits(means, new Rng(1));
    for (let j = 0; j < 10; j++) {
      const col = (m: Matrix) => Array.from({ length: 16 }, (_, r) => m.data[r * 10 + j]).sort();
      expect(col(u)).toEqual(col(means));
    }
  });
});

describe("geometry's null option", () => {
  const runs = () =>
    sweepRuns({
      seed: 2,
      grid: { activation: ['tanh'] as const },
      seeds: 2,
      run: (_p, s) => ({
        task: alignedParity({ d: 3, k: 3, alignment: 0.5, N: 16, sigma: 0.5, seed: s.task }),
        network: { activation: 'tanh', width: 12 },
        training: { lr: 0.2, batch: 40, samples: 400, epochs: 2, checkpoints: { steps: [] } },
      }),
    });
  const metrics: MetricRequest[] = [
    { name: 'ccgp', classifier: 'ridge', null: { model: 'geometric', samples: 20 } },
    { name: 'decodability', classifier: 'ridge', null: { model: 'shuffle', samples: 10 }, steps: 'final' },
    { name: 'ps', null: { model: 'shuffle', samples: 20 } },
    { name: 'kernel_alignment', null: { model: 'permutation', samples: 30, seed: 4 } },
    { name: 'sd', classifier: 'ridge', steps: 'final' },
  ];
  const metricRows = async (pool?: WorkerPool) =>
    (
      await lastValueFrom(
        trainRuns(runs(), { engine: 'kernel', pool }).pipe(
          probe({ samplesPerCondition: 6 }),
          geometry({ metrics, pool }),
          toArray(),
        ),
      )
    ).filter((r) => r.kind === 'metric');
  it('adds the null model, its draws, mean, sd and p-value to the rows that ask, the same with a pool', async () => {
    const rows = await metricRows();
    const by = (m: string) => rows.filter((r) => r.metric === m && r.scope === 'run');
    for (const [metric, model, n] of [
      ['ccgp', 'geometric', 20],
      ['decodability', 'shuffle', 10],
      ['ps', 'shuffle', 20],
      ['kernel_alignment', 'permutation', 30],
    ] as const) {
      expect(by(metric).length).toBeGreaterThan(0);
      for (const r of by(metric)) {
        expect(r).toMatchObject({ null_model: model, null_samples: n });
        expect(r.p_value!).toBeGreaterThanOrEqual(1 / (n + 1));
        expect(r.p_value!).toBeLessThanOrEqual(1);
        expect(Number.isFinite(r.null_mean!) && Number.isFinite(r.null_sd!)).toBe(true);
      }
    }
    // Rows without the option, and ensemble rows, have no null columns.
    for (const r of [...by('sd'), ...by('loss'), ...rows.filter((r) => r.scope === 'ensemble')])
      expect([r.null_model, r.null_samples, r.null_mean, r.null_sd, r.p_value]).toEqual([null, null, null, null, null]);
    // The trained target's decodability is far from its shuffled labels.
    for (const r of by('decodability')) expect(r.p_value!).toBeCloseTo(1 / 11, 12);
    const pool = new WorkerPool(2, undefined, 'kernel');
    try {
      expect(await metricRows(pool)).toEqual(rows);
    } finally {
      await pool.close();
    }
  }, 120_000);
  it('is checked before any work: the models each metric takes, samples >= 2, no unknown keys', () => {
    expect(() => geometry({ metrics: [{ name: 'ccgp', null: { model: 'permutation' } } as never] })).toThrow(
      /metrics\[0\].null.model: received "permutation"; accepted: 'shuffle' \| 'geometric'/,
    );
    expect(() => geometry({ metrics: [{ name: 'ps', null: { model: 'shuffle', samples: 1 } }] })).toThrow(
      /metrics\[0\].null.samples: received 1/,
    );
    expect(() =>
      geometry({ metrics: [{ name: 'kernel_alignment', null: { model: 'permutation', draws: 5 } } as never] }),
    ).toThrow(/metrics\[0\].null.draws: received 5/);
    expect(() => geometry({ metrics: [{ name: 'sd', null: 'geometric' } as never] })).toThrow(
      /metrics\[0\].null: received "geometric"/,
    );
  });
});
