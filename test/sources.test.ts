import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { alignedParity, alignedWeights, dirichletWeights, parityFeatures } from '../src/sources/aligned-parity.js';
import { randomKernel } from '../src/sources/random-kernel.js';
import { taskFromSpec } from '../src/sources/task-file.js';
import { symmetricEigenvalues } from '../src/metrics/linalg.js';
import { gram } from '../src/metrics/matrix.js';
import { Rng } from '../src/random.js';
import { separableXor } from '../src/sources/separable-xor.js';
import { unstructured } from '../src/sources/unstructured.js';
import { sweep, sweepRuns, gridPoints } from '../src/sources/sweep.js';
import { linearCKA } from '../src/metrics/cka.js';
import { signedTargets } from '../src/sources/task-dichotomies.js';
import { ConfigError } from '../src/errors.js';
import type { Matrix } from '../src/types.js';

const row = (m: Matrix, i: number) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('aligned parity task', () => {
  it('measured CKA(Kx, Ky) equals the requested alignment to 1e-9 over a grid of (d, k, c)', () => {
    let checked = 0;
    for (const d of [2, 3, 4, 5]) {
      const P = 2 ** d;
      for (const k of [...new Set([1, d, P - 2])]) {
        if (k > P - 2) continue;
        for (const c of [0, 0.05, 0.2, 0.37, 0.5, Math.sqrt(k / (P - 1)), 0.8, 0.99, 1]) {
          const task = alignedParity({ d, k, alignment: c, N: Math.max(100, P), seed: 7 });
          expect(linearCKA(task.means, signedTargets(task.targets))).toBeCloseTo(c, 9);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(80);
  });
  it('k = P − 1 (every parity a target) gives alignment 1', () => {
    const task = alignedParity({ d: 3, k: 7, alignment: 1 });
    expect(linearCKA(task.means, signedTargets(task.targets))).toBeCloseTo(1, 12);
  });
  it('uniform weights give the "unstructured" alignment √(k / (P − 1))', () => {
    const pi = alignedWeights(8, 3, Math.sqrt(3 / 7));
    for (const v of pi) expect(v).toBeCloseTo(1 / 7, 12);
  });
  it('has the structure of docs/science.md 1a: ±1 orthogonal parities, targets = bits, means of norm √N', () => {
    const { subsets, h } = parityFeatures(3);
    expect(subsets.slice(0, 3)).toEqual([[0], [1], [2]]);
    expect(subsets).toHaveLength(7);
    for (let a = 0; a < 7; a++)
      for (let b = 0; b < 7; b++) {
        let s = 0;
        for (let p = 0; p < 8; p++) s += h[p * 7 + a] * h[p * 7 + b];
        expect(s).toBe(a === b ? 8 : 0);
      }
    const task = alignedParity({ d: 3, k: 3, alignment: 0.4, N: 50, seed: 3 });
    expect(task.P).toBe(8);
    for (let p = 0; p < 8; p++) {
      expect(Math.sqrt(dot(row(task.means, p), row(task.means, p)))).toBeCloseTo(Math.sqrt(50), 9);
      expect(row(task.targets, p)).toEqual([p & 1, (p >> 1) & 1, (p >> 2) & 1]);
      expect(row(task.latents!, p)).toEqual([p & 1, (p >> 1) & 1, (p >> 2) & 1]);
    }
  });
  it('is deterministic in its seed and differs across seeds', () => {
    const a = alignedParity({ d: 3, k: 3, alignment: 0.4, seed: 1 });
    const b = alignedParity({ d: 3, k: 3, alignment: 0.4, seed: 1 });
    const c = alignedParity({ d: 3, k: 3, alignment: 0.4, seed: 2 });
    expect(Array.from(a.means.data)).toEqual(Array.from(b.means.data));
    expect(Array.from(a.means.data)).not.toEqual(Array.from(c.means.data));
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(c.id);
  });
  it('samples are mean + sigma·noise, seeded', () => {
    const task = alignedParity({ d: 2, k: 2, alignment: 0.5, N: 20, sigma: 0.5, seed: 1 });
    const s1 = task.sample(4000, 9);
    const s2 = task.sample(4000, 9);
    expect(Array.from(s1.x)).toEqual(Array.from(s2.x));
    // Residuals have standard deviation sigma; conditions are roughly uniform.
    let ss = 0;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < s1.n; i++) {
      const p = s1.conditions[i];
      counts[p]++;
      for (let j = 0; j < 20; j++) ss += (s1.x[i * 20 + j] - task.means.data[p * 20 + j]) ** 2;
    }
    expect(Math.sqrt(ss / (s1.n * 20))).toBeCloseTo(0.5, 2);
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(120);
  });
  it('rejects bad input, naming the field and what is accepted', () => {
    expect(() => alignedParity({ d: 3, k: 3, alignment: 1.2 })).toThrow(
      /alignment: received 1.2; accepted: a finite number >= 0 and <= 1/,
    );
    expect(() => alignedParity({ d: 3, k: 3, alignment: -0.1 })).toThrow(ConfigError);
    expect(() => alignedParity({ d: 3, k: 8, alignment: 0.5 })).toThrow(
      /k: received 8; accepted: an integer >= 1 and <= 7/,
    );
    expect(() => alignedParity({ d: 3, k: 7, alignment: 0.5 })).toThrow(
      /alignment: received 0.5; accepted: 1 only, when k = P − 1 = 7/,
    );
    expect(() => alignedParity({ d: 3, k: 3, alignment: 0.5, N: 5 })).toThrow(
      /N: received 5; accepted: an integer >= 7/,
    );
  });
});

describe('separable XOR', () => {
  it('has disjoint supports of norm √(N/3), the XOR target, and separability growing with eps', () => {
    const t = separableXor({ N: 30, eps: 0.5, sigma: 0 });
    expect(Array.from(t.targets.data)).toEqual([0, 1, 1, 0]);
    // mean(+,−) − mean(−,−) = 2·m1 − 2·eps·m3: m1 on the first block, nothing on the second.
    const diff = row(t.means, 1).map((v, j) => (v - row(t.means, 0)[j]) / 2);
    const m1 = diff.slice(0, 10);
    expect(Math.sqrt(dot(m1, m1))).toBeCloseTo(Math.sqrt(10), 9);
    expect(m1.every((v) => v >= 0)).toBe(true);
    expect(diff.slice(10, 20).every((v) => v === 0)).toBe(true);
    const m3 = diff.slice(20).map((v) => -v / 0.5);
    expect(Math.sqrt(dot(m3, m3))).toBeCloseTo(Math.sqrt(10), 9);
    // Projection on m3 (last block) separates XOR classes by 2·eps·|m3|² when eps > 0, and is 0 for eps = 0.
    const m3proj = (task: typeof t, p: number) =>
      row(task.means, p)
        .slice(20)
        .reduce((s, v) => s + v, 0);
    expect(m3proj(t, 0)).toBeGreaterThan(0);
    expect(m3proj(t, 1)).toBeLessThan(0);
    const pure = separableXor({ N: 30, eps: 0 });
    expect(m3proj(pure, 0)).toBe(0);
  });
  it('rejects N not a multiple of 3 and negative eps', () => {
    expect(() => separableXor({ N: 31 })).toThrow(/N: received 31; accepted: a positive multiple of 3/);
    expect(() => separableXor({ eps: -1 })).toThrow(/eps: received -1/);
  });
});

describe('unstructured patterns', () => {
  it('centres the means and builds the classic {0, 3} vs {1, 2} target', () => {
    const t = unstructured({ P: 4, N: 200 });
    for (let j = 0; j < 200; j++) {
      let s = 0;
      for (let p = 0; p < 4; p++) s += t.means.data[p * 200 + j];
      expect(Math.abs(s)).toBeLessThan(1e-12);
    }
    expect(Array.from(t.targets.data)).toEqual([1, 0, 0, 1]);
  });
  it('hadamard targets are the P − 1 balanced, mutually orthogonal columns', () => {
    const t = unstructured({ P: 8, N: 20, targets: 'hadamard' });
    expect(t.K).toBe(7);
    const s = signedTargets(t.targets);
    for (let a = 0; a < 7; a++)
      for (let b = 0; b < 7; b++) {
        let v = 0;
        for (let p = 0; p < 8; p++) v += s.data[p * 7 + a] * s.data[p * 7 + b];
        expect(v).toBe(a === b ? 8 : 0);
      }
  });
  it('rejects a bad dichotomy', () => {
    expect(() => unstructured({ P: 4, targets: { positive: [0, 4] } })).toThrow(/targets.positive/);
  });
});

describe('sweep grid', () => {
  const make = (alignments: number[], seed = 5) =>
    sweepRuns({
      seed,
      grid: { alignment: alignments, activation: ['tanh', 'relu'] as const },
      seeds: 3,
      run: (p, s) => ({
        task: alignedParity({ d: 2, k: 2, alignment: p.alignment, seed: s.task }),
        network: { activation: p.activation },
        training: { epochs: 1, samples: 10, batch: 5 },
      }),
    });
  it('visits the cartesian product, last key fastest, with a run per seed', () => {
    expect(gridPoints({ a: [1, 2], b: ['x', 'y', 'z'] })).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'z' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
      { a: 2, b: 'z' },
    ]);
    const runs = make([0, 0.5]);
    expect(runs).toHaveLength(12);
    expect(runs[0].run_id).toBe('alignment=0,activation=tanh,replicate=0');
    expect(new Set(runs.map((r) => r.seed)).size).toBe(12);
    expect(new Set(runs.map((r) => r.ensemble_id)).size).toBe(4);
  });
  it('derives seeds from coordinates only: growing the grid does not change existing runs', () => {
    const small = make([0.5]);
    const big = make([0, 0.25, 0.5]);
    for (const r of small) {
      const same = big.find((b) => b.run_id === r.run_id)!;
      expect(same.seed).toBe(r.seed);
      expect(same.data_seed).toBe(r.data_seed);
      expect(same.task.id).toBe(r.task.id);
    }
    expect(make([0.5], 6)[0].seed).not.toBe(small[0].seed);
  });
  it('rejects a bad value anywhere in the grid before emitting anything', async () => {
    let emitted = 0;
    const src = sweep({
      grid: { activation: ['tanh', 'swish'] },
      run: (p) => ({
        task: alignedParity({ d: 2, k: 2, alignment: 0.5 }),
        network: { activation: p.activation as 'tanh' },
      }),
    });
    await expect(
      lastValueFrom(src.pipe(toArray()), { defaultValue: [] }).then((a) => {
        emitted = a.length;
      }),
    ).rejects.toThrow(/network.activation: received "swish"; accepted: 'tanh', 'relu'/);
    expect(emitted).toBe(0);
    expect(() =>
      sweepRuns({
        grid: { w: [10, 0] },
        run: (p) => ({ task: alignedParity({ d: 2, k: 2, alignment: 0.5 }), network: { width: p.w } }),
      }),
    ).toThrow(/network.width: received 0; accepted: an integer >= 1/);
  });
});

/** Numerical rank of the P × P kernel of the rows of m: eigenvalues above 1e-9 of the largest. */
function kernelRank(m: Matrix): number {
  const ev = symmetricEigenvalues(gram(m));
  const top = Math.max(...ev);
  return ev.filter((v) => v > 1e-9 * top).length;
}

describe('aligned parity with Dirichlet inputs (random lower-dimensional inputs)', () => {
  it('CKA(Kx, Ky) equals the requested alignment to 1e-9, with weights on the simplex', () => {
    let checked = 0;
    for (const d of [2, 3, 5]) {
      const P = 2 ** d;
      for (const k of [...new Set([1, d])]) {
        if (k > P - 2) continue;
        for (const alpha of [0.3, 2]) {
          for (const c of [0, 0.1, 0.3, Math.sqrt(k / (P - 1)), 0.7, 0.95, 1]) {
            for (const seed of [1, 2]) {
              const task = alignedParity({ d, k, alignment: c, seed, inputs: { dirichlet: alpha } });
              expect(linearCKA(task.means, signedTargets(task.targets))).toBeCloseTo(c, 9);
              checked++;
            }
            const pi = dirichletWeights(P, k, c, alpha, new Rng(5));
            expect(pi.every((v) => v >= 0)).toBe(true);
            expect(pi.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
  it('has fewer effective input dimensions than the maximal weights, fewer for smaller α', () => {
    const pr = (pi: Float64Array) => pi.reduce((s, v) => s + v, 0) ** 2 / pi.reduce((s, v) => s + v * v, 0);
    const mean = (alpha: number) => {
      let s = 0;
      for (let seed = 0; seed < 50; seed++) s += pr(dirichletWeights(32, 5, 0.3, alpha, new Rng(seed))) / 50;
      return s;
    };
    const maximal = pr(alignedWeights(32, 5, 0.3));
    expect(mean(2)).toBeLessThan(maximal);
    expect(mean(0.3)).toBeLessThan(mean(2));
  });
  it('is deterministic in its seed, differs across seeds, and records α', () => {
    const o = { d: 3, k: 3, alignment: 0.4, inputs: { dirichlet: 2 } } as const;
    const a = alignedParity({ ...o, seed: 1 });
    expect(Array.from(alignedParity({ ...o, seed: 1 }).means.data)).toEqual(Array.from(a.means.data));
    expect(Array.from(alignedParity({ ...o, seed: 2 }).means.data)).not.toEqual(Array.from(a.means.data));
    expect(a.params).toMatchObject({ dirichlet: 2 });
    expect(() => alignedParity({ ...o, inputs: { dirichlet: 0 } })).toThrow(/inputs.dirichlet: received 0/);
    expect(() => alignedParity({ ...o, inputs: 'uniform' as never })).toThrow(/inputs: received "uniform"/);
  });
  it('edge cases: a tiny α, c = 0, and k = P − 1', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const pi = dirichletWeights(4, 1, 0.4, 1e-3, new Rng(seed));
      expect(pi.every(Number.isFinite)).toBe(true);
      const task = alignedParity({ d: 2, k: 1, alignment: 0.4, seed, inputs: { dirichlet: 1e-3 } });
      expect(linearCKA(task.means, signedTargets(task.targets))).toBeCloseTo(0.4, 9);
    }
    // c = 0: no weight on the targets, and the draw still decides the rest.
    const [a, b] = [1, 2].map((seed) => dirichletWeights(8, 3, 0, 2, new Rng(seed)));
    expect(Array.from(a.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(a.reduce((x, v) => x + v, 0)).toBeCloseTo(1, 12);
    expect(() => alignedParity({ d: 2, k: 3, alignment: 1, inputs: { dirichlet: 2 } })).toThrow(
      /inputs: .*'maximal' when k = P − 1 = 3/,
    );
  });
  it('leaves the maximal variant as it was (the embedding is drawn first)', () => {
    const a = alignedParity({ d: 3, k: 3, alignment: 0.4, seed: 3 });
    const b = alignedParity({ d: 3, k: 3, alignment: 0.4, seed: 3, inputs: 'maximal' });
    expect(Array.from(b.means.data)).toEqual(Array.from(a.means.data));
  });
});

describe('random-kernel task', () => {
  it('CKA(Kx, Ky) equals the requested alignment to 1e-9, and the input rank is k + rank', () => {
    let checked = 0;
    for (const [P, k] of [
      [8, 1],
      [8, 3],
      [32, 1],
      [32, 5],
    ] as const) {
      for (const rank of [...new Set([1, 5, P - 1 - k])]) {
        if (rank > P - 1 - k) continue;
        for (const c of [0, 0.2, 0.5, 0.9, 1]) {
          const task = randomKernel({ P, k, alignment: c, rank, seed: 4 });
          expect(linearCKA(task.means, signedTargets(task.targets))).toBeCloseTo(c, 9);
          expect(kernelRank(task.means)).toBe(c === 0 ? rank : c === 1 ? k : k + rank);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
  it('is deterministic in its seed; different seeds give different kernels', () => {
    const o = { P: 32, k: 5, alignment: 0.5, rank: 5 };
    const a = randomKernel({ ...o, seed: 1 });
    const again = randomKernel({ ...o, seed: 1 });
    const b = randomKernel({ ...o, seed: 2 });
    expect(Array.from(again.means.data)).toEqual(Array.from(a.means.data));
    const ka = gram(a.means).data,
      kb = gram(b.means).data;
    expect(Math.max(...ka.map((v, i) => Math.abs(v - kb[i])))).toBeGreaterThan(1e-3);
    // Mean squared norm of a mean is N, as in aligned parity.
    const sq = Array.from(a.means.data).reduce((s, v) => s + v * v, 0) / a.P;
    expect(sq).toBeCloseTo(100, 9);
    expect(a.family).toBe('random-kernel');
  });
  it('rejects what it cannot build, naming the field', () => {
    expect(() => randomKernel({ P: 12, k: 1, alignment: 0.5, rank: 2 })).toThrow(
      /P: received 12; accepted: a power of 2/,
    );
    expect(() => randomKernel({ P: 8, k: 3, alignment: 0.5, rank: 5 })).toThrow(
      /rank: received 5; accepted: an integer >= 1 and <= 4/,
    );
    expect(() => randomKernel({ P: 8, k: 3, alignment: 1.5, rank: 2 })).toThrow(/alignment: received 1.5/);
  });
  it('round-trips through a task file', () => {
    const spec = { family: 'random-kernel', P: 8, k: 3, alignment: 0.3, rank: 2, N: 40, sigma: 0.5, seed: 6 };
    const t = taskFromSpec(spec);
    expect(Array.from(t.means.data)).toEqual(
      Array.from(randomKernel({ P: 8, k: 3, alignment: 0.3, rank: 2, N: 40, sigma: 0.5, seed: 6 }).means.data),
    );
    const dir = taskFromSpec({ family: 'aligned-parity', d: 3, k: 3, alignment: 0.3, seed: 2, dirichlet: 2 });
    expect(Array.from(dir.means.data)).toEqual(
      Array.from(alignedParity({ d: 3, k: 3, alignment: 0.3, seed: 2, inputs: { dirichlet: 2 } }).means.data),
    );
  });
});
