/**
 * Cross-check of decodability's label-shuffle null (`null: { model: 'shuffle' }`) against
 * scikit-learn's `permutation_test_score` on the same data, classifier (RidgeClassifier, which
 * geomstream's ridge reproduces exactly) and folds: the same observed score, and null draws with
 * the same mean and sd, and the same p-value where it is away from its bounds, within their Monte
 * Carlo error (the permutations themselves cannot be matched across languages; see
 * test/python/permutation_reference.py for how its null follows geomstream's). Needs python3 with
 * numpy, scipy and scikit-learn (`.ci/run` installs them) for the live check; the reference values
 * are also frozen in test/fixtures/sklearn_permutation_reference.json (GEOMSTREAM_FREEZE_REFERENCE=1
 * rewrites it), so the comparison runs everywhere; without them the live part is skipped (with the
 * reason) unless CI is set.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, of, toArray } from 'rxjs';
import { Rng } from '../src/random.js';
import { conditionFolds } from '../src/metrics/index.js';
import { geometry } from '../src/operators/geometry.js';
import { sweepRuns } from '../src/sources/sweep.js';
import { alignedParity } from '../src/sources/aligned-parity.js';
import type { MetricRow, Representation } from '../src/types.js';

const probe = spawnSync('python3', ['-c', 'import numpy, scipy, sklearn'], { encoding: 'utf8' });
const available = probe.status === 0;
if (!available && process.env.CI)
  throw new Error(`python3 with numpy, scipy and scikit-learn is required in CI: ${probe.stderr || probe.error}`);

/**
 * Null draws. scikit-learn's cost a permutation 20 ms here (five fits with its input checks), so it
 * draws fewer; ours are cheap, and more of them take their share of the Monte Carlo error down.
 */
const DRAWS = { ours: 4000, sklearn: 1000 };
/** The target compared: its observed score is about one null sd above the null mean (p ≈ 0.15), away from p’s bounds. */
const TARGET = 2;
const P = 8,
  H = 10,
  PER = 20;

/**
 * A representation of the aligned-parity task's 8 conditions (20 noisy samples each in 10 units):
 * each target's ±1 label moves the condition means along its own random direction by its
 * `strength`, and every condition has a random offset besides (which makes target0 decodable
 * too: p at its bound; target1 is not, p ≈ 0.5).
 */
function representation(): Representation {
  const [run] = sweepRuns({
    seed: 3,
    grid: { activation: ['tanh'] as const },
    run: (_p, s) => ({
      task: alignedParity({ d: 3, k: 3, alignment: 0.5, N: 16, sigma: 0.5, seed: s.task }),
      network: { activation: 'tanh', width: H },
      training: { lr: 0.1, epochs: 1 },
    }),
  });
  const t = run.task.targets;
  const rng = new Rng(11);
  const strength = [0.08, 0, 0.12];
  const directions = strength.map(() => Array.from({ length: H }, () => rng.normal()));
  const means = Array.from({ length: P }, (_, p) =>
    Array.from(
      { length: H },
      (_, j) =>
        0.3 * rng.normal() +
        strength.reduce((s, a, k) => s + a * (2 * t.data[p * t.cols + k] - 1) * directions[k][j], 0),
    ),
  );
  const activity = new Float64Array(P * PER * H);
  const conditions = new Int32Array(P * PER);
  for (let p = 0; p < P; p++)
    for (let i = 0; i < PER; i++) {
      conditions[p * PER + i] = p;
      for (let j = 0; j < H; j++) activity[(p * PER + i) * H + j] = means[p][j] + rng.normal();
    }
  return {
    kind: 'representation',
    run_id: run.run_id,
    ensemble_id: run.ensemble_id,
    step: 0,
    epoch: 0,
    loss: null,
    accuracy: null,
    layer: 1,
    means: { rows: P, cols: H, data: Float64Array.from(means.flat()) },
    samples: { activity: { rows: P * PER, cols: H, data: activity }, conditions },
    run,
    ensemble_size: 1,
    final: true,
  };
}

interface NullSummary {
  value: number;
  null_mean: number;
  null_sd: number;
  p_value: number;
}

/**
 * Two null tests of the same score from independent draws (`na` and `nb` of them) agree: the same
 * score, and null mean, sd and p-value within 4 Monte Carlo standard errors of their difference.
 * Each side's estimate of the null mean has standard error sd/√n, of the sd about sd/√(2(n − 1))
 * (a near-normal null), of the p-value √(p(1 − p)/n); the difference, the root of the sum of the
 * two squares. 4 of those: a false alarm one time in 15,000.
 */
function expectSameNull(a: NullSummary, na: number, b: NullSummary, nb: number) {
  const at = `${JSON.stringify(a)} (${na} draws) vs ${JSON.stringify(b)} (${nb})`;
  const se = (perDraw: number) => Math.sqrt(perDraw / na + perDraw / nb);
  const sd = b.null_sd,
    p = b.p_value;
  expect(a.value, at).toBeCloseTo(b.value, 12);
  expect(Math.abs(a.null_mean - b.null_mean), at).toBeLessThanOrEqual(4 * se(sd ** 2));
  expect(Math.abs(a.null_sd - sd), at).toBeLessThanOrEqual(4 * se(sd ** 2 / 2));
  expect(Math.abs(a.p_value - p), at).toBeLessThanOrEqual(4 * se(p * (1 - p)));
}

const frozenPath = fileURLToPath(new URL('./fixtures/sklearn_permutation_reference.json', import.meta.url));

describe("decodability's label-shuffle null against scikit-learn's permutation_test_score (live when python3 has it; always against its frozen values)", () => {
  const rep = representation();
  const { activity, conditions } = rep.samples!;
  const t = rep.run.task.targets;
  const labels = Array.from({ length: t.cols }, (_, k) => Array.from({ length: P }, (_, p) => t.data[p * t.cols + k]));
  const script = fileURLToPath(new URL('./python/permutation_reference.py', import.meta.url));
  const res = available
    ? spawnSync('python3', [script], {
        input: JSON.stringify({
          x: Array.from({ length: activity.rows }, (_, i) => Array.from(activity.data.subarray(i * H, (i + 1) * H))),
          conditions: Array.from(conditions),
          // geometry's decodability: 5 folds stratified by condition, seed 0.
          folds: Array.from(conditionFolds(conditions, P, 5, 0)),
          labels: [labels[TARGET]],
          permutations: DRAWS.sklearn,
          seed: 0,
        }),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      })
    : null;
  const live = res?.status === 0 ? JSON.parse(res.stdout) : null;
  if (process.env.GEOMSTREAM_FREEZE_REFERENCE && live) writeFileSync(frozenPath, `${JSON.stringify(live)}\n`);
  const frozen = JSON.parse(readFileSync(frozenPath, 'utf8'));
  const ref: NullSummary[] = live ?? frozen;

  it.runIf(available)('the live reference script ran, and still gives the frozen values', () => {
    expect(res!.stderr).not.toMatch(/Traceback/);
    expect(res!.status).toBe(0);
    // Another scikit-learn may split or permute differently: its draws are another sample of the same null.
    expectSameNull(live[0], DRAWS.sklearn, frozen[0], DRAWS.sklearn);
  });
  it(`target${TARGET}: the same observed score; null mean, sd and p-value within 4 Monte Carlo standard errors`, async () => {
    const rows = (
      await lastValueFrom(
        of(rep).pipe(
          geometry({
            metrics: [{ name: 'decodability', classifier: 'ridge', null: { model: 'shuffle', samples: DRAWS.ours } }],
          }),
          toArray(),
        ),
      )
    ).filter((r): r is MetricRow => r.kind === 'metric' && r.metric === 'decodability');
    expect(rows.map((r) => r.dichotomy)).toEqual(['target0', 'target1', 'target2']);
    const theirs = ref[0];
    expectSameNull(rows[TARGET] as NullSummary, DRAWS.ours, theirs, DRAWS.sklearn);
    // The comparison means something: the score is above its null, not far beyond it.
    expect(theirs.p_value).toBeGreaterThan(0.05);
    expect(theirs.p_value).toBeLessThan(0.5);
    // The other targets: target0 far above its null, target1 not above it.
    expect(rows[0].p_value!).toBeLessThan(0.01);
    expect(rows[1].p_value!).toBeGreaterThan(0.3);
  });
});
