import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipe } from 'rxjs';
import {
  neuronAxes,
  projectNeuron,
  readoutError,
  expectedLoss,
  expectedGradient,
  expectedGradientField,
  gaussHermite,
  smoothing,
} from '../src/metrics/index.js';
import { resolveActivation } from '../src/activations.js';
import { normalCdf } from '../src/maths/special.js';
import { definePipeline, runPipeline, sweep, train, unstructured, weightDynamics } from '../src/index.js';
import { queryResults } from '../src/query/index.js';
import type { Matrix } from '../src/types.js';

const m = (rows: number[][]): Matrix => ({
  rows: rows.length,
  cols: rows[0].length,
  data: Float64Array.from(rows.flat()),
});
// The classic setting in 4 dimensions: conditions at ±e1 ± e2 (+ offsets), target {0, 3} vs {1, 2},
// with the target also linearly present along e4 (so the inter-class axis u is not zero).
const means = m([
  [1, 1, 0.3, 0.5],
  [1, -1, 0, 0.2],
  [-1, 1, 0, -0.2],
  [-1, -1, -0.3, 0.5],
]);
const targets = m([[1], [0], [0], [1]]);
const J = [0.8];

describe('neuron axes on a hand-made case', () => {
  const axes = neuronAxes(means, targets, J);
  it('u_i = Σ_p e_i(p) mu_p, and a neuron whose weights equal u_i has intra = 0', () => {
    const e = readoutError(J, targets);
    expect(Array.from(e)).toEqual([0.4, -0.4, -0.4, 0.4]);
    const u = [0, 1, 2, 3].map((j) => [0, 1, 2, 3].reduce((s, p) => s + e[p] * means.data[p * 4 + j], 0));
    // By hand: u = 0.4 · (mu0 − mu1 − mu2 + mu3) = (0, 0, 0, 0.4).
    u.forEach((v, j) => {
      expect(v).toBeCloseTo([0, 0, 0, 0.4][j], 12);
    });
    const pr = projectNeuron(u, 0, axes, means);
    expect(pr.intra).toBeCloseTo(0, 12);
    expect(pr.inter).toBeCloseTo(Math.hypot(...u), 12);
    expect(pr.norm).toBeCloseTo(Math.hypot(...u), 12);
  });
  it('projects a neuron as computed by hand', () => {
    // Inter-class axis e4; intra-class subspace spanned by the within-label differences
    // mu0 − mu3 = (2, 2, 0.6, 0) and mu1 − mu2 = (2, −2, 0, 0.4), the latter minus its e4 part.
    const w = [1, 0, 0, 2];
    const pr = projectNeuron(w, 0, axes, means);
    expect(pr.inter).toBeCloseTo(2, 12);
    const a = 2 / Math.hypot(2, 2, 0.6),
      b = 1 / Math.SQRT2; // w on the two unit intra axes
    expect(pr.intra).toBeCloseTo(Math.hypot(a, b), 12);
    expect(pr.norm).toBeCloseTo(Math.sqrt(5), 12);
    const comps = [...pr.intraComponents].map(Math.abs).sort((x, y) => x - y);
    expect(comps).toHaveLength(2);
    expect(comps[0]).toBeCloseTo(Math.min(a, b), 12);
    expect(comps[1]).toBeCloseTo(Math.max(a, b), 12);
  });
  it('has two intra-class axes, orthonormal and orthogonal to the inter-class axis', () => {
    expect(axes.intra).toHaveLength(2);
    const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
    for (const a of axes.intra) {
      expect(dot(a, a)).toBeCloseTo(1, 12);
      expect(dot(a, axes.inter)).toBeCloseTo(0, 12);
    }
    expect(dot(axes.intra[0], axes.intra[1])).toBeCloseTo(0, 12);
  });
  it('a neuron along a within-class difference is all intra, and the active set follows the pre-activations', () => {
    // mu_0 − mu_3 separates the two conditions of the positive class.
    const w = [2, 2, 0.6, 0];
    const pr = projectNeuron(w, 0, axes, means);
    expect(Math.abs(pr.inter)).toBeLessThan(pr.intra);
    expect(pr.intra ** 2 + pr.inter ** 2).toBeCloseTo(pr.norm ** 2 - 0, 1);
    expect(pr.activeConditions).toEqual([0]);
    expect(projectNeuron(w, 10, axes, means).activeConditions).toEqual([0, 1, 2, 3]);
  });
  it('aligned parity with k = d has no intra-class axis (every condition its own label)', () => {
    const t = m([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    expect(neuronAxes(means, t, [1, 1]).intra).toHaveLength(0);
  });
});

describe('the expected-gradient field', () => {
  it('Gauss–Hermite integrates Gaussian moments', () => {
    const { nodes, weights } = gaussHermite(40);
    const E = (g: (x: number) => number) => nodes.reduce((s, x, k) => s + weights[k] * g(x), 0);
    expect(E(() => 1)).toBeCloseTo(1, 12);
    expect(E((x) => x * x)).toBeCloseTo(1, 12);
    expect(E((x) => x ** 4)).toBeCloseTo(3, 10);
    expect(E((x) => Math.cos(x))).toBeCloseTo(Math.exp(-0.5), 12);
  });
  for (const name of ['tanh', 'relu', 'softplus'] as const) {
    it(`equals minus a finite-difference gradient of the expected loss (${name})`, () => {
      const act = resolveActivation(name);
      const sm = smoothing(act.f, act.df, { relu: name === 'relu' });
      const e = readoutError(J, targets);
      const sigma = 0.7,
        b = 0.1;
      for (const w of [
        [0.3, -0.2, 0.5, 0.1],
        [1.2, 0.4, -0.3, 0.8],
        [-0.5, 0.9, 0.2, -0.4],
      ]) {
        const g = expectedGradient(w, b, e, means, sigma, sm);
        for (let j = 0; j < 4; j++) {
          const h = 1e-6;
          const up = w.slice();
          up[j] += h;
          const down = w.slice();
          down[j] -= h;
          const fd = (expectedLoss(up, b, e, means, sigma, sm) - expectedLoss(down, b, e, means, sigma, sm)) / (2 * h);
          expect(g[j]).toBeCloseTo(fd, 6);
        }
      }
      // The field is −∇L projected on the axes.
      const axes = neuronAxes(means, targets, J);
      const [pt] = expectedGradientField(axes, b, e, means, sigma, sm, { inter: [0.4], intra: [-0.3] });
      const w = Array.from(axes.inter, (u, j) => 0.4 * u - 0.3 * axes.intra[0][j]);
      const g = expectedGradient(w, b, e, means, sigma, sm);
      expect(pt.dInter).toBeCloseTo(-g.reduce((s, v, j) => s + v * axes.inter[j], 0), 12);
      expect(pt.dIntra).toBeCloseTo(-g.reduce((s, v, j) => s + v * axes.intra[0][j], 0), 12);
    });
  }
  it('for relu, the closed forms agree with quadrature (which converges slowly across the kink)', () => {
    const act = resolveActivation('relu');
    const closed = smoothing(act.f, act.df, { relu: true });
    const quad = smoothing(act.f, act.df, { points: 150 });
    for (const [c, s] of [
      [0.3, 1],
      [-0.5, 0.4],
      [1.2, 2],
    ]) {
      expect(Math.abs(quad.f(c, s) - closed.f(c, s))).toBeLessThan(2e-3);
      expect(Math.abs(quad.df(c, s) - closed.df(c, s))).toBeLessThan(0.06);
    }
    expect(closed.df(0.3, 1)).toBeCloseTo(normalCdf(0.3), 14);
    expect(() => gaussHermite(200)).toThrow(/points: received 200/);
  });
});

describe('weightDynamics in a pipeline, read back with DuckDB', () => {
  const out = mkdtempSync(join(tmpdir(), 'geomstream-wd-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const pipeline = definePipeline({
    name: 'wd',
    runs: () =>
      sweep({
        grid: { activation: ['tanh', 'relu'] as const },
        seeds: 2,
        run: (p, s) => ({
          task: unstructured({ P: 4, N: 20, sigma: 0.5, seed: s.task }),
          network: { activation: p.activation, width: 6 },
          training: { lr: 0.1, batch: 50, samples: 200, epochs: 2, checkpoints: { steps: [2] } },
        }),
      }),
    process: (ctx) => pipe(train(ctx.train), weightDynamics({ field: { neurons: [0, 5], size: 5 } })),
  });
  it('writes neurons/ and field/ with the contract columns', async () => {
    const res = await runPipeline(pipeline, { out });
    const n = await queryResults(res.dir, 'SELECT * FROM neurons ORDER BY run_id, step, neuron');
    expect(n.columns).toEqual([
      'run_id',
      'step',
      'epoch',
      'layer',
      'neuron',
      'inter',
      'intra',
      'intra_1',
      'intra_2',
      'norm',
      'active_conditions',
      'n_active',
    ]);
    // 4 runs × checkpoints {0, 2, 8} × 6 neurons.
    expect(n.rows).toHaveLength(4 * 3 * 6);
    for (const r of n.rows) {
      expect(Array.isArray(r.active_conditions)).toBe(true);
      expect((r.active_conditions as number[]).length).toBe(r.n_active);
      expect(Math.hypot(r.intra_1 as number, r.intra_2 as number)).toBeCloseTo(r.intra as number, 9);
    }
    const f = await queryResults(
      res.dir,
      'SELECT run_id, step, neuron, count(*)::INTEGER AS n FROM field GROUP BY ALL ORDER BY ALL',
    );
    // Replicate 0 of each activation, step 0, neurons 0 and 5, 5 × 5 grid.
    expect(f.rows).toEqual([
      { run_id: 'activation=relu,replicate=0', step: 0, neuron: 0, n: 25 },
      { run_id: 'activation=relu,replicate=0', step: 0, neuron: 5, n: 25 },
      { run_id: 'activation=tanh,replicate=0', step: 0, neuron: 0, n: 25 },
      { run_id: 'activation=tanh,replicate=0', step: 0, neuron: 5, n: 25 },
    ]);
  });
  it('rejects bad field options before work starts', () => {
    expect(() => weightDynamics({ field: { steps: 'middle' as never } })).toThrow(
      /field.steps: received "middle"; accepted: 'first', 'final', 'all'/,
    );
    expect(() => weightDynamics({ field: { size: 1 } })).toThrow(/field.size: received 1/);
  });
});
