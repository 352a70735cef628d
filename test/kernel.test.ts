import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/engine/backend.js';
import { initialParams } from '../src/engine/init.js';
import { KernelEnsemble, kernelActivation } from '../src/engine/kernel/ensemble.js';
import { kernelLayout } from '../src/engine/kernel/layout.js';
import { trainEnsemble, type CheckpointEvent } from '../src/engine/training.js';
import { ACTIVATION_NAMES, resolveActivation, type ActivationSpec } from '../src/activations.js';
import { alignedParity } from '../src/sources/aligned-parity.js';
import { sweepRuns } from '../src/sources/sweep.js';
import { runPipeline, definePipeline } from '../src/pipeline.js';
import { train } from '../src/operators/train.js';
import { Rng } from '../src/random.js';
import type { NetworkParams, TrainedRunSpec as RunSpec } from '../src/types.js';

beforeAll(async () => {
  await initBackend();
});

const INIT = { weightScale: 1, readoutScale: 1, biasScale: 1 };

/** One network N = 1 → H = 1 → K = 1 with W = 1, b1 = 0, J = 1, b2 = 0: its logit is f(x). */
async function scalarNetwork(spec: ActivationSpec): Promise<KernelEnsemble> {
  const p: NetworkParams = {
    N: 1,
    H: 1,
    K: 1,
    W: Float32Array.of(1),
    b1: Float32Array.of(0),
    J: Float32Array.of(1),
    b2: Float32Array.of(0),
  };
  return KernelEnsemble.create([p], resolveActivation(spec), 'frozen', 64);
}

describe('the SIMD kernel', () => {
  it('computes tanh to 5e-7 over its whole range, and ±1 beyond, NaN for NaN', async () => {
    const net = await scalarNetwork('tanh');
    const n = 200_001;
    const x = Float32Array.from({ length: n }, (_, i) => -12 + (24 * i) / (n - 1));
    const y = net.logits(x, n);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(y[i] - Math.tanh(x[i])));
    expect(worst).toBeLessThan(5e-7);
    expect(Array.from(net.logits(Float32Array.of(1e30, -1e30, 0, NaN), 4))).toEqual([1, -1, 0, NaN]);
  });

  it('computes every activation it claims exactly as the scalar definition', async () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => -4 + i / 8);
    const specs: ActivationSpec[] = [
      'relu',
      'hard-tanh',
      'identity',
      { name: 'bounded-relu', u: 1.5 },
      { name: 'shifted-relu', s: -0.5 },
      { name: 'leaky-relu', slope: 0.2 },
      { name: 'leaky-relu', slope: 2 },
    ];
    for (const spec of specs) {
      const y = (await scalarNetwork(spec)).logits(x, 64);
      const f = resolveActivation(spec).f;
      for (let i = 0; i < 64; i++) expect(y[i]).toBeCloseTo(Math.fround(f(x[i])), 6);
    }
  });

  it('claims exactly the activations without exp: the others train on tfjs', () => {
    const claimed = ACTIVATION_NAMES.filter((n) => kernelActivation(resolveActivation(n)));
    expect(claimed.sort()).toEqual([
      'bounded-relu',
      'hard-tanh',
      'identity',
      'leaky-relu',
      'relu',
      'shifted-relu',
      'tanh',
    ]);
  });

  it('pads shapes so that no row stride is a power-of-two number of cache lines', () => {
    for (const [S, H] of [
      [10, 128],
      [5, 128],
      [1, 5],
      [3, 100],
      [10, 512],
    ]) {
      const lay = kernelLayout({ S, N: 100, H, K: 3, rows: 64, trainReadout: false });
      expect(lay.M).toBeGreaterThanOrEqual(S * H);
      expect(lay.Ms % 8).toBe(0);
      expect((lay.Ms / 16) % 2).toBe(1);
    }
  });

  it('keeps a diverged network to itself: the others train as if it were not there', async () => {
    const act = resolveActivation('tanh');
    const params = [1, 2, 3].map((s) => initialParams(s, 9, 6, 2, INIT));
    const broken = { ...params[1], W: params[1].W.map((v, i) => (i === 0 ? NaN : v)) };
    const withNaN = await KernelEnsemble.create([params[0], broken, params[2]], act, 'trained', 12);
    const without = await KernelEnsemble.create([params[0], params[2]], act, 'trained', 12);
    const rng = new Rng(4);
    const x = rng.fillNormal(new Float32Array(12 * 9), 1);
    const y = Float32Array.from({ length: 12 * 2 }, () => rng.int(2));
    const l3 = new Float64Array(3),
      l2 = new Float64Array(2);
    for (let t = 0; t < 5; t++) {
      for (const k of [withNaN, without]) for (let r = 0; r < 11; r++) k.input(r).set(x.subarray(r * 9, r * 9 + 9));
      withNaN.step(11, y, 0.3, l3);
      without.step(11, y, 0.3, l2);
      expect(Number.isNaN(l3[1])).toBe(true);
      expect(l3[0]).toBe(l2[0]);
      expect(l3[2]).toBe(l2[1]);
    }
    const a = withNaN.params(),
      b = without.params();
    expect(a[0]).toEqual(b[0]);
    expect(a[2]).toEqual(b[1]);
  });
});

/** Small odd shapes (N = 7, H = 5, K = 2, S = 3, batch 10 over 45 samples: a last batch of 5) exercise every padding path. */
function oddRuns(activation: ActivationSpec, readout: 'frozen' | 'trained'): RunSpec[] {
  return sweepRuns({
    seed: 5,
    grid: { a: [0.5] },
    seeds: 3,
    run: (_p, s) => ({
      task: alignedParity({ d: 2, k: 2, alignment: 0.5, N: 7, sigma: 0.5, seed: s.task }),
      network: { activation, width: 5, readout },
      training: { lr: 0.3, batch: 10, samples: 45, epochs: 4, checkpoints: { every: 7 } },
    }),
  });
}

async function checkpoints(runs: RunSpec[], engine: string): Promise<CheckpointEvent[]> {
  const out: CheckpointEvent[] = [];
  for await (const ev of trainEnsemble(runs, { engine })) if (ev.type === 'checkpoint') out.push(ev);
  return out;
}

describe('the kernel engine against the tfjs engine', () => {
  const cases: Array<[ActivationSpec, 'frozen' | 'trained']> = [
    ['tanh', 'frozen'],
    ['tanh', 'trained'],
    ['relu', 'frozen'],
    ['relu', 'trained'],
    ['hard-tanh', 'frozen'],
    ['identity', 'trained'],
    [{ name: 'bounded-relu', u: 1 }, 'frozen'],
    [{ name: 'shifted-relu', s: 0.3 }, 'frozen'],
    [{ name: 'leaky-relu', slope: 0.1 }, 'trained'],
  ];
  it.each(cases)(
    'trains %j networks (%s readout) to the same weights, losses and accuracies, checkpoint by checkpoint',
    async (activation, readout) => {
      const runs = oddRuns(activation, readout);
      const [k, t] = [await checkpoints(runs, 'kernel'), await checkpoints(runs, 'tfjs')];
      expect(k.map((c) => c.step)).toEqual(t.map((c) => c.step));
      expect(k.length).toBeGreaterThan(2);
      for (let c = 0; c < k.length; c++) {
        for (let s = 0; s < 3; s++) {
          const a = k[c].members[s],
            b = t[c].members[s];
          expect(a.loss).toBeCloseTo(b.loss, 5);
          expect(a.accuracy).toBeCloseTo(b.accuracy, 6);
          for (const f of ['W', 'b1', 'J', 'b2'] as const) {
            for (let i = 0; i < a.params[f].length; i++)
              expect(Math.abs(a.params[f][i] - b.params[f][i])).toBeLessThan(2e-5);
          }
        }
      }
    },
  );
});

describe('engine choice', () => {
  it("rejects 'kernel' for a run it cannot train, naming why, before any training", async () => {
    const runs = oddRuns('sigmoid', 'frozen');
    await expect(checkpoints(runs, 'kernel')).rejects.toThrow(/engine.*kernel.*sigmoid/);
    const pipeline = definePipeline({ name: 'k', runs: () => runs, process: () => train() });
    await expect(runPipeline(pipeline, { engine: 'kernel', out: '/nonexistent/never-created' })).rejects.toThrow(
      /^engine: received "kernel"; accepted: 'tfjs' or 'auto' \(run .+ has .*sigmoid/,
    );
    await expect(runPipeline(pipeline, { engine: 'fast', out: '/nonexistent/never-created' })).rejects.toThrow(
      /engine.*'auto', 'kernel', 'tfjs'/,
    );
  });
  it('auto trains what the kernel cannot on tfjs', async () => {
    const [first] = await checkpoints(oddRuns('sigmoid', 'frozen'), 'auto');
    expect(first.engine).toBe('tfjs');
    const [second] = await checkpoints(oddRuns('tanh', 'frozen'), 'auto');
    expect(second.engine).toBe('kernel');
  });
});
