import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/engine/backend.js';
import { initialParams } from '../src/engine/init.js';
import { KernelEnsemble, kernelActivation } from '../src/engine/kernel/ensemble.js';
import { kernelLayout } from '../src/engine/kernel/layout.js';
import { exp } from '../src/engine/kernel/activation-wat.js';
import { assembleWat } from '../src/wasm.js';
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

  it('computes e^x to 1.2e-7 relative error over the normal range, and its limits', async () => {
    const n = 200_000;
    const mod = await assembleWat(
      'exp.wat',
      `(module (import "env" "memory" (memory 1))
        (func (export "run") (param $count i32) (local $i i32) (local $r v128) (local $n v128) (local $e v128)
          (loop $l
            ${exp('(v128.load (local.get $i))', '$e')}
            (v128.store (local.get $i) (local.get $e))
            (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (i32.shl (local.get $count) (i32.const 2))))))
      )`,
    );
    const memory = new WebAssembly.Memory({ initial: Math.ceil((n * 4) / 65536) });
    const run = (await WebAssembly.instantiate(mod, { env: { memory } })).exports.run as (n: number) => void;
    const x = new Float32Array(memory.buffer, 0, n);
    for (let i = 0; i < n - 4; i++) x[i] = -87 + (175 * i) / (n - 5);
    x.set([200, -200, 0, NaN], n - 4);
    const input = x.slice();
    run(n);
    let worst = 0;
    for (let i = 0; i < n - 4; i++) worst = Math.max(worst, Math.abs(x[i] / Math.exp(input[i]) - 1));
    expect(worst).toBeLessThan(1.2e-7);
    // Beyond the clamp: e^88.3 and e^−87.3, finite; e^0 = 1; NaN stays NaN.
    expect(x[n - 4] / Math.exp(Math.fround(88.3))).toBeCloseTo(1, 6);
    expect(x[n - 3]).toBeGreaterThan(0);
    expect(x[n - 2]).toBe(1);
    expect(x[n - 1]).toBeNaN();
  });

  it('computes the exp-based activations to their stated error, and their limits, 0 and NaN', async () => {
    // [spec, max absolute error, max relative error] over [−20, 20] against the float64 definitions.
    const specs: Array<[ActivationSpec, number, number]> = [
      ['sigmoid', 1e-7, 2e-7],
      [{ name: 'softplus', beta: 1 }, 5e-7, 3e-7],
      [{ name: 'softplus', beta: 3 }, 1e-6, 3e-6],
      ['gelu', 5e-7, Infinity], // Φ's absolute error 1.5e-7·|z|/2: relative error grows where gelu → 0
      [{ name: 'elu', alpha: 1 }, 6e-8, Infinity], // e^z − 1 near z = 0⁻ (as in the tfjs engine)
    ];
    const n = 100_001;
    const x = Float32Array.from({ length: n }, (_, i) => -20 + (40 * i) / (n - 1));
    for (const [spec, absTol, relTol] of specs) {
      const net = await scalarNetwork(spec);
      const f = resolveActivation(spec).f;
      const y = net.logits(x, n);
      let abs = 0,
        rel = 0;
      for (let i = 0; i < n; i++) {
        const e = Math.abs(y[i] - f(x[i]));
        abs = Math.max(abs, e);
        if (f(x[i]) !== 0) rel = Math.max(rel, e / Math.abs(f(x[i])));
      }
      expect(abs).toBeLessThan(absTol);
      expect(rel).toBeLessThan(relTol);
      const [big, small, zero, nan] = net.logits(Float32Array.of(1e30, -1e30, 0, NaN), 4);
      expect(Math.abs(big / f(1e30) - 1)).toBeLessThan(1e-6);
      expect(Math.abs(small - f(-1e30))).toBeLessThan(1e-30);
      expect(zero).toBeCloseTo(Math.fround(f(0)), 7);
      expect(nan).toBeNaN();
    }
  });

  it('has a form for every activation', () => {
    for (const name of ACTIVATION_NAMES) expect(kernelActivation(resolveActivation(name)).form).toBeTruthy();
  });

  it('pads shapes so that no row stride is a power-of-two number of cache lines', () => {
    for (const [S, H] of [
      [10, 128],
      [5, 128],
      [1, 5],
      [3, 100],
      [10, 512],
    ]) {
      const lay = kernelLayout({
        S,
        N: 100,
        H,
        K: 3,
        depth: 1,
        rows: 64,
        trainReadout: false,
        optimizer: 'sgd',
        storedDerivative: false,
      });
      expect(lay.M).toBeGreaterThanOrEqual(S * H);
      expect(lay.Ms % 8).toBe(0);
      expect((lay.Ms / 16) % 2).toBe(1);
    }
  });

  it.each([
    ['tanh', 1, 'sgd'],
    ['gelu', 3, 'adam'],
    [{ name: 'softplus', beta: 2 }, 2, 'sgd'],
    ['sigmoid', 2, 'adam'],
  ] as Array<[ActivationSpec, number, 'sgd' | 'adam']>)(
    'keeps a diverged network to itself: the others train as if it were not there (%j, depth %i, %s)',
    async (spec, depth, optimizer) => {
      const act = resolveActivation(spec);
      const params = [1, 2, 3].map((s) => initialParams(s, 9, 6, 2, INIT, depth));
      const broken = { ...params[1], W: params[1].W.map((v, i) => (i === 0 ? NaN : v)) };
      const withNaN = await KernelEnsemble.create([params[0], broken, params[2]], act, 'trained', 12, optimizer);
      const without = await KernelEnsemble.create([params[0], params[2]], act, 'trained', 12, optimizer);
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
      expect(a[0].layers?.length ?? 0).toBe(depth - 1);
    },
  );
});

interface OddOptions {
  depth?: number;
  optimizer?: 'sgd' | 'adam';
  lr?: number;
}

/** Small odd shapes (N = 7, H = 5, K = 2, S = 3, batch 10 over 45 samples: a last batch of 5) exercise every padding path. */
function oddRuns(activation: ActivationSpec, readout: 'frozen' | 'trained', o: OddOptions = {}): RunSpec[] {
  const optimizer = o.optimizer ?? 'sgd';
  return sweepRuns({
    seed: 5,
    grid: { a: [0.5] },
    seeds: 3,
    run: (_p, s) => ({
      task: alignedParity({ d: 2, k: 2, alignment: 0.5, N: 7, sigma: 0.5, seed: s.task }),
      network: { activation, width: 5, readout, depth: o.depth ?? 1 },
      training: {
        lr: o.lr ?? (optimizer === 'adam' ? 0.02 : 0.3),
        batch: 10,
        samples: 45,
        epochs: 4,
        checkpoints: { every: 7 },
        optimizer,
      },
    }),
  });
}

async function checkpoints(runs: RunSpec[], engine: string): Promise<CheckpointEvent[]> {
  const out: CheckpointEvent[] = [];
  for await (const ev of trainEnsemble(runs, { engine })) if (ev.type === 'checkpoint') out.push(ev);
  return out;
}

describe('the kernel engine against the tfjs engine', () => {
  const cases: Array<[ActivationSpec, 'frozen' | 'trained', OddOptions]> = [
    ['tanh', 'frozen', {}],
    ['tanh', 'trained', {}],
    ['relu', 'frozen', {}],
    ['relu', 'trained', {}],
    ['hard-tanh', 'frozen', {}],
    ['identity', 'trained', {}],
    [{ name: 'bounded-relu', u: 1 }, 'frozen', {}],
    [{ name: 'shifted-relu', s: 0.3 }, 'frozen', {}],
    [{ name: 'shifted-relu', s: 0.3 }, 'trained', {}],
    [{ name: 'leaky-relu', slope: 0.1 }, 'trained', {}],
    ['sigmoid', 'frozen', {}],
    ['sigmoid', 'trained', { depth: 2 }],
    [{ name: 'softplus', beta: 2 }, 'frozen', {}],
    [{ name: 'softplus', beta: 1 }, 'trained', { depth: 3, optimizer: 'adam' }],
    ['gelu', 'frozen', {}],
    ['gelu', 'trained', { depth: 3 }],
    [{ name: 'elu', alpha: 0.5 }, 'frozen', {}],
    [{ name: 'elu', alpha: 1 }, 'trained', { optimizer: 'adam' }],
    ['tanh', 'frozen', { optimizer: 'adam' }],
    ['tanh', 'trained', { depth: 3, optimizer: 'adam' }],
    ['tanh', 'trained', { depth: 5 }],
    ['relu', 'trained', { depth: 3, optimizer: 'adam' }],
    [{ name: 'shifted-relu', s: 0.3 }, 'trained', { depth: 2, optimizer: 'adam' }],
  ];
  it.each(cases)(
    'trains %j networks (%s readout, %j) to the same weights, losses and accuracies, checkpoint by checkpoint',
    async (activation, readout, o) => {
      const runs = oddRuns(activation, readout, o);
      const [k, t] = [await checkpoints(runs, 'kernel'), await checkpoints(runs, 'tfjs')];
      expect(k.map((c) => c.step)).toEqual(t.map((c) => c.step));
      expect(k.length).toBeGreaterThan(2);
      expect([k[0].engine, t[0].engine]).toEqual(['kernel', 'tfjs']);
      // Training moved the weights well beyond the tolerance below.
      expect(Math.abs(k.at(-1)!.members[0].params.W[0] - k[0].members[0].params.W[0])).toBeGreaterThan(1e-3);
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
          expect(a.params.layers?.length ?? 0).toBe((o.depth ?? 1) - 1);
          a.params.layers?.forEach((la, l) => {
            const lb = b.params.layers![l];
            for (const f of ['W', 'b'] as const)
              for (let i = 0; i < la[f].length; i++) expect(Math.abs(la[f][i] - lb[f][i])).toBeLessThan(2e-5);
          });
        }
      }
    },
  );
});

describe('engine choice', () => {
  it('rejects an unknown engine before any training', async () => {
    const pipeline = definePipeline({ name: 'k', runs: () => oddRuns('tanh', 'frozen'), process: () => train() });
    await expect(runPipeline(pipeline, { engine: 'fast', out: '/nonexistent/never-created' })).rejects.toThrow(
      /engine.*'auto', 'kernel', 'tfjs'/,
    );
  });
  it('auto trains every network on the kernel; tfjs on request', async () => {
    for (const [act, o] of [
      ['sigmoid', { depth: 3, optimizer: 'adam' }],
      ['tanh', {}],
    ] as Array<[ActivationSpec, OddOptions]>) {
      const [first] = await checkpoints(oddRuns(act, 'trained', o), 'auto');
      expect(first.engine).toBe('kernel');
    }
    const [t] = await checkpoints(oddRuns('gelu', 'frozen'), 'tfjs');
    expect(t.engine).toBe('tfjs');
  });
});
