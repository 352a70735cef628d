/**
 * Cross-check against scikit-learn and scipy on random data: CCGP and SD accuracies within 0.02 of
 * LinearSVC's (and RidgeClassifier's), Spearman and Kendall tau-b equal to scipy's. The reference
 * values come from test/python/reference_metrics.py, run on the same data and folds. Needs python3
 * with numpy, scipy and scikit-learn (`.ci/run` installs them) for the live check; the values are also
 * frozen in test/fixtures/sklearn_reference.json (GEOMSTREAM_FREEZE_REFERENCE=1 rewrites it), so the
 * comparison runs everywhere; without them the live part is skipped
 * (with the reason) unless CI is set.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/random.js';
import {
  ccgp,
  shatteringDimensionality,
  compareRdms,
  conditionFolds,
  balancedDichotomies,
} from '../src/metrics/index.js';

const probe = spawnSync('python3', ['-c', 'import numpy, scipy, sklearn'], { encoding: 'utf8' });
const available = probe.status === 0;
if (!available && process.env.CI)
  throw new Error(`python3 with numpy, scipy and scikit-learn is required in CI: ${probe.stderr || probe.error}`);

/** 8 conditions with random means in 24 dimensions, 40 noisy samples each: accuracies well away from 0.5 and 1. */
function problem(seed: number) {
  const rng = new Rng(seed);
  const P = 8,
    H = 24,
    per = 40,
    sigma = 2.2;
  const means = Array.from({ length: P }, () => Array.from({ length: H }, () => rng.normal()));
  const x: number[][] = [],
    conditions: number[] = [];
  for (let p = 0; p < P; p++)
    for (let i = 0; i < per; i++) {
      x.push(means[p].map((m) => m + sigma * rng.normal()));
      conditions.push(p);
    }
  return { x, conditions };
}

const frozenPath = fileURLToPath(new URL('./fixtures/sklearn_reference.json', import.meta.url));

describe('against scikit-learn and scipy (live when python3 has them; always against their frozen values)', () => {
  const { x, conditions } = problem(42);
  const folds = conditionFolds(Int32Array.from(conditions), 8, 5, 7);
  const dichotomies = balancedDichotomies(8);
  const ccgpTasks = [
    [0, 1, 2, 3],
    [0, 2, 4, 6],
    [0, 3, 5, 6],
  ].map((positive) => ({
    positive,
    held_out: positive.flatMap((a) => [0, 1, 2, 3, 4, 5, 6, 7].filter((c) => !positive.includes(c)).map((b) => [a, b])),
  }));
  const rng = new Rng(5);
  const rdmA = Array.from({ length: 28 }, () => Math.round(rng.uniform() * 6));
  const rdmB = Array.from({ length: 28 }, (_, i) => Math.round(rdmA[i] + rng.normal() * 2));
  const script = fileURLToPath(new URL('./python/reference_metrics.py', import.meta.url));
  const res = available
    ? spawnSync('python3', [script], {
        input: JSON.stringify({
          x,
          conditions,
          folds: Array.from(folds),
          dichotomies,
          ccgp: ccgpTasks,
          rdm_a: rdmA,
          rdm_b: rdmB,
        }),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      })
    : null;
  const live = res?.status === 0 ? JSON.parse(res.stdout) : null;
  // The reference values frozen from scikit-learn 1.9 / scipy (test/python/reference_metrics.py on
  // this very problem), so the comparison runs on machines without them too.
  if (process.env.GEOMSTREAM_FREEZE_REFERENCE && live) writeFileSync(frozenPath, `${JSON.stringify(live)}\n`);
  const frozen = JSON.parse(readFileSync(frozenPath, 'utf8'));
  const ref = live ?? frozen;

  it.runIf(available)('the live reference script ran, and still gives the frozen values', () => {
    expect(res!.stderr).not.toMatch(/Traceback/);
    expect(res!.status).toBe(0);
    for (const classifier of ['svm', 'ridge']) {
      live.sd[classifier].forEach((v: number, i: number) => {
        expect(Math.abs(v - frozen.sd[classifier][i])).toBeLessThanOrEqual(0.02);
      });
    }
    expect(live.spearman).toBeCloseTo(frozen.spearman, 12);
    expect(live.kendall_tau_b).toBeCloseTo(frozen.kendall_tau_b, 12);
  });
  for (const classifier of ['svm', 'ridge'] as const) {
    it(`shattering dimensionality (${classifier}): every dichotomy's accuracy within 0.02 of scikit-learn's`, () => {
      const ours = shatteringDimensionality(x, conditions, { classifier, folds: 5, seed: 7 });
      expect(ours.dichotomies).toEqual(dichotomies);
      const theirs: number[] = ref.sd[classifier];
      const diffs = ours.accuracies.map((a, i) => Math.abs(a - theirs[i]));
      expect(Math.max(...diffs)).toBeLessThanOrEqual(0.02);
      const mean = theirs.reduce((s, v) => s + v, 0) / theirs.length;
      expect(Math.abs(ours.value - mean)).toBeLessThanOrEqual(0.02);
      // The problem is neither trivial nor hopeless.
      expect(mean).toBeGreaterThan(0.6);
      expect(mean).toBeLessThan(0.97);
    });
    it(`CCGP (${classifier}, Bernardi scheme): every held-out pair within 0.02 of scikit-learn's`, () => {
      ccgpTasks.forEach((task, t) => {
        const ours = ccgp(x, conditions, task.positive, { classifier });
        const theirs: number[] = ref.ccgp[classifier][t];
        expect(ours.accuracies).toHaveLength(theirs.length);
        ours.accuracies.forEach((a, i) => {
          expect(Math.abs(a - theirs[i]), `task ${t} pair ${i}: ${a} vs ${theirs[i]}`).toBeLessThanOrEqual(0.02);
        });
      });
    });
  }
  it('Spearman and Kendall tau-b equal scipy (with ties)', () => {
    expect(compareRdms(rdmA, rdmB, 'spearman')).toBeCloseTo(ref.spearman, 12);
    expect(compareRdms(rdmA, rdmB, 'kendall')).toBeCloseTo(ref.kendall_tau_b, 12);
  });
});
