import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend.js';
import { Ensemble } from '../src/engine/ensemble.js';
import { initialParams } from '../src/engine/init.js';
import { maxParamChange, trainEnsemble, type CheckpointEvent } from '../src/engine/training.js';
import { lastValueFrom, toArray } from 'rxjs';
import { trainRuns } from '../src/operators/train.js';
import { unstructured } from '../src/sources/unstructured.js';
import { resolveActivation, type ActivationSpec } from '../src/activations.js';
import { evaluate } from '../src/engine/forward.js';
import { checkpointSteps } from '../src/config.js';
import { alignedParity } from '../src/sources/aligned-parity.js';
import { sweepRuns } from '../src/sources/sweep.js';
import { Rng } from '../src/random.js';
import type { NetworkParams, RunRecord, TrainedRunSpec as RunSpec } from '../src/types.js';

beforeAll(async () => {
  await initBackend();
});

/** Random inputs and 0/1 targets. */
function data(n: number, N: number, K: number, seed: number) {
  const rng = new Rng(seed);
  const x = rng.fillNormal(new Float64Array(n * N));
  const y = Float64Array.from({ length: n * K }, () => (rng.uniform() < 0.5 ? 1 : 0));
  return { x, y };
}

/** A float64 copy of the parameters (the forward pass reads any typed array). */
function f64(p: NetworkParams): NetworkParams {
  return {
    ...p,
    W: Float64Array.from(p.W),
    b1: Float64Array.from(p.b1),
    J: Float64Array.from(p.J),
    b2: Float64Array.from(p.b2),
    layers: p.layers?.map((l) => ({ W: Float64Array.from(l.W), b: Float64Array.from(l.b) })),
  } as unknown as NetworkParams;
}

describe('the ensemble training step', () => {
  const cases: Array<[ActivationSpec, 'frozen' | 'trained', number]> = [
    ['tanh', 'frozen', 1],
    ['relu', 'frozen', 1],
    ['tanh', 'trained', 1],
    [{ name: 'softplus', beta: 2 }, 'trained', 1],
    ['gelu', 'frozen', 1],
    ['tanh', 'trained', 3],
    ['relu', 'frozen', 2],
  ];
  for (const [spec, readout, depth] of cases) {
    it(`gradients match a float64 finite-difference check (${JSON.stringify(spec)}, ${readout} readout, depth ${depth})`, () => {
      const N = 6,
        H = 5,
        K = 2,
        n = 16;
      const act = resolveActivation(spec);
      const init = { weightScale: 1, readoutScale: 1, biasScale: 1 };
      const params = [initialParams(1, N, H, K, init, depth), initialParams(2, N, H, K, init, depth)];
      const { x, y } = data(n, N, K, 3);
      const ens = new Ensemble(params, act, readout);
      const xt = tf.tensor2d(Float32Array.from(x), [n, N]);
      const yt = tf.tensor2d(Float32Array.from(y), [n, K]);
      const grads = ens.gradients(xt, yt);
      tf.dispose([xt, yt]);
      ens.dispose();
      const X = { rows: n, cols: N, data: Float64Array.from(Float32Array.from(x)) };
      const Y = { rows: n, cols: K, data: y };
      params.forEach((p0, s) => {
        const p = f64(p0);
        const loss = (q: NetworkParams) => evaluate(q, act, X, Y).loss;
        expect(grads[s].loss).toBeCloseTo(loss(p), 5);
        const keys: Array<'W' | 'b1' | 'J' | 'b2'> = readout === 'trained' ? ['W', 'b1', 'J', 'b2'] : ['W', 'b1', 'b2'];
        const pairs: Array<[Float64Array, Float32Array]> = keys.map((key) => [
          p[key] as unknown as Float64Array,
          grads[s][key]!,
        ]);
        expect(grads[s].layers?.length ?? 0).toBe(depth - 1);
        p.layers?.forEach((l, li) => {
          pairs.push(
            [l.W as unknown as Float64Array, grads[s].layers![li].W],
            [l.b as unknown as Float64Array, grads[s].layers![li].b],
          );
        });
        for (const [arr, g] of pairs) {
          let maxAbs = 0;
          for (const v of g) maxAbs = Math.max(maxAbs, Math.abs(v));
          for (let i = 0; i < arr.length; i++) {
            const orig = arr[i];
            const eps = 1e-6;
            arr[i] = orig + eps;
            const up = loss(p);
            arr[i] = orig - eps;
            const down = loss(p);
            arr[i] = orig;
            const fd = (up - down) / (2 * eps);
            expect(Math.abs(g[i] - fd)).toBeLessThan(1e-4 * Math.max(maxAbs, 1e-3) + 1e-7);
          }
        }
        if (readout === 'frozen') expect(grads[s].J).toBeNull();
      });
    });
  }
});

function runsFor(
  opts: {
    activation?: ActivationSpec;
    seeds?: number;
    epochs?: number;
    lr?: number;
    readout?: 'frozen' | 'trained';
    every?: number;
    depth?: number;
    optimizer?: 'sgd' | 'adam';
  } = {},
): RunSpec[] {
  return sweepRuns({
    seed: 11,
    grid: { alignment: [0.5] },
    seeds: opts.seeds ?? 3,
    run: (p, s) => ({
      task: alignedParity({ d: 3, k: 3, alignment: p.alignment, N: 20, sigma: 0.5, seed: s.task }),
      network: {
        activation: opts.activation ?? 'tanh',
        width: 16,
        readout: opts.readout ?? 'frozen',
        depth: opts.depth ?? 1,
      },
      training: {
        lr: opts.lr ?? 0.2,
        batch: 32,
        samples: 400,
        epochs: opts.epochs ?? 8,
        checkpoints: { every: opts.every ?? 13 },
        optimizer: opts.optimizer ?? 'sgd',
      },
    }),
  });
}

async function collect(runs: RunSpec[], onSteps?: (n: number) => void, engine = 'auto') {
  const checkpoints: CheckpointEvent[] = [];
  const diverged: Array<{ index: number; step: number }> = [];
  for await (const ev of trainEnsemble(runs, { onSteps, engine })) {
    if (ev.type === 'checkpoint') checkpoints.push(ev);
    else diverged.push(ev);
  }
  return { checkpoints, diverged };
}

describe.each(['kernel', 'tfjs'])('trainEnsemble on the %s engine', (engine) => {
  it('makes the training loss fall, for tanh and relu', async () => {
    for (const activation of ['tanh', 'relu'] as const) {
      const { checkpoints } = await collect(runsFor({ activation }), undefined, engine);
      for (const c of checkpoints) expect(c.engine).toBe(engine);
      const first = checkpoints[0],
        last = checkpoints.at(-1)!;
      expect(first.step).toBe(0);
      expect(last.step).toBe(8 * 13);
      for (let s = 0; s < 3; s++) {
        expect(last.members[s].loss).toBeLessThan(0.5 * first.members[s].loss);
        expect(last.members[s].accuracy).toBeGreaterThan(0.9);
      }
    }
  });
  it('reports the float64 loss of its own weights at each checkpoint', async () => {
    const runs = runsFor({ epochs: 2 });
    const { checkpoints } = await collect(runs, undefined, engine);
    const task = runs[0].task;
    const batch = task.sample(400, runs[0].data_seed);
    const X = { rows: 400, cols: task.N, data: Float64Array.from(batch.x) };
    const Y = {
      rows: 400,
      cols: 3,
      data: Float64Array.from(
        { length: 1200 },
        (_, i) => task.targets.data[batch.conditions[Math.floor(i / 3)] * 3 + (i % 3)],
      ),
    };
    const last = checkpoints.at(-1)!;
    for (const m of last.members) {
      const ref = evaluate(f64(m.params), resolveActivation('tanh'), X, Y);
      expect(m.loss).toBeCloseTo(ref.loss, 5);
      expect(m.accuracy).toBeCloseTo(ref.accuracy, 6);
    }
  });
  it('trains deep networks with Adam: the loss falls', async () => {
    const { checkpoints } = await collect(
      runsFor({ depth: 3, readout: 'trained', optimizer: 'adam', lr: 0.01, epochs: 6 }),
      undefined,
      engine,
    );
    expect(checkpoints[0].engine).toBe(engine);
    const first = checkpoints[0],
      last = checkpoints.at(-1)!;
    for (let s = 0; s < 3; s++) expect(last.members[s].loss).toBeLessThan(0.5 * first.members[s].loss);
    expect(last.members[0].params.layers).toHaveLength(2);
  });
  it('gives a network the same weights in an ensemble as alone (same seed, same batches), also deep and with Adam', async () => {
    const cases = [
      ['frozen', 1, 'sgd'],
      ['trained', 1, 'sgd'],
      ['trained', 2, 'adam'],
    ] as const;
    for (const [readout, depth, optimizer] of cases) {
      const runs = runsFor({ seeds: 3, epochs: 3, readout, depth, optimizer, lr: optimizer === 'adam' ? 0.01 : 0.2 });
      const together = (await collect(runs, undefined, engine)).checkpoints.at(-1)!;
      const alone = (await collect([runs[1]], undefined, engine)).checkpoints.at(-1)!;
      const a = together.members[1].params,
        b = alone.members[0].params;
      const arrays = (p: NetworkParams) => [p.W, p.b1, p.J, p.b2, ...(p.layers ?? []).flatMap((l) => [l.W, l.b])];
      const [xa, xb] = [arrays(a), arrays(b)];
      expect(xa).toHaveLength(xb.length);
      xa.forEach((arr, k) => {
        for (let i = 0; i < arr.length; i++) expect(Math.abs(arr[i] - xb[k][i])).toBeLessThan(1e-5);
      });
    }
  });
  it('does not leak tensors across steps or after training', async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await collect(runsFor({ epochs: 6 }), () => counts.push(tf.memory().numTensors), engine);
    expect(counts).toHaveLength(6);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('a 100-network ensemble does not grow memory step over step (tensors and RSS)', async () => {
    const runs = sweepRuns({
      seed: 3,
      grid: { a: [1] },
      seeds: 100,
      run: (_p, s) => ({
        task: alignedParity({ d: 3, k: 3, alignment: 0.5, N: 100, seed: s.task }),
        network: { activation: 'tanh', width: 32 },
        training: { lr: 0.1, batch: 64, samples: 1280, epochs: 16, checkpoints: { steps: [] } },
      }),
    });
    const tensors: number[] = [];
    const rss: number[] = [];
    await collect(
      runs,
      () => {
        tensors.push(tf.memory().numTensors);
        rss.push(process.memoryUsage().rss / 2 ** 20);
      },
      engine,
    );
    // 16 epochs × 20 steps = 320 steps of 100 networks.
    expect(tensors).toHaveLength(16);
    expect(new Set(tensors).size).toBe(1);
    // After warm-up, resident memory stays flat (allow GC and allocator noise of a few MB).
    expect(Math.max(...rss.slice(4)) - rss[4]).toBeLessThan(24);
  });
  it('records a network whose loss becomes NaN as diverged at its step and keeps the others', async () => {
    const runs = runsFor({ lr: 1e300, epochs: 2 });
    const { checkpoints, diverged } = await collect(runs, undefined, engine);
    expect(diverged.map((d) => d.index).sort()).toEqual([0, 1, 2]);
    // The first update makes the weights non-finite; the loss of step 2 is the first NaN.
    for (const d of diverged) expect(d.step).toBe(2);
    expect(checkpoints).toHaveLength(1);
    expect(checkpoints[0].step).toBe(0);
  });
});

describe('NaN isolation in the tfjs ensemble', () => {
  for (const readout of ['frozen', 'trained'] as const) {
    it(`a network with NaN weights leaves the others' updates exactly as without it (${readout} readout)`, async () => {
      await initBackend('wasm');
      const act = resolveActivation('tanh');
      const N = 6,
        H = 5,
        K = 2,
        n = 16;
      const init = { weightScale: 1, readoutScale: 1, biasScale: 1 };
      const [a, b, c] = [1, 2, 3].map((seed) => initialParams(seed, N, H, K, init));
      const broken = { ...b, W: b.W.slice() };
      broken.W[3] = NaN;
      const { x, y } = data(n, N, K, 5);
      const x1 = Ensemble.withBias(tf.tensor2d(Float32Array.from(x), [n, N]));
      const yt = tf.tensor2d(Float32Array.from(y), [n, K]);
      const train = (ps: NetworkParams[]) => {
        const ens = new Ensemble(ps, act, readout);
        for (let i = 0; i < 3; i++) ens.step(x1, yt, 0.5).dispose();
        const out = ens.params();
        ens.dispose();
        return out;
      };
      const withNaN = train([a, broken, c]);
      const without = train([a, c]);
      tf.dispose([x1, yt]);
      expect(withNaN[1].W.some((v) => Number.isNaN(v))).toBe(true);
      for (const [i, j] of [
        [0, 0],
        [2, 1],
      ]) {
        for (const key of ['W', 'b1', 'J', 'b2'] as const) {
          expect(withNaN[i][key].every(Number.isFinite), `${key} of network ${i}`).toBe(true);
          expect(Array.from(withNaN[i][key])).toEqual(Array.from(without[j][key]));
        }
      }
    });
  }
});

describe('checkpoint schedules', () => {
  it('always include 0 and the final step', () => {
    expect(checkpointSteps({ every: 40 }, 100)).toEqual([0, 40, 80, 100]);
    expect(checkpointSteps({ steps: [5, 500, 50] }, 100)).toEqual([0, 5, 50, 100]);
    const log = checkpointSteps({ logSpaced: 5 }, 10000);
    expect(log).toEqual([0, 1, 10, 100, 1000, 10000]);
  });
});

describe('convergence (RunRecord.max_param_change, converged)', () => {
  const runsFor = (epochs: number, trainReadout: boolean) =>
    sweepRuns({
      seed: 1,
      grid: { activation: ['tanh', 'relu'] as const },
      seeds: 2,
      run: (p, s) => ({
        task: unstructured({ P: 4, N: 20, sigma: 0, seed: s.task }),
        network: { activation: p.activation, width: 16, readout: trainReadout ? 'trained' : 'frozen' },
        // Full-batch: the epoch before the last is a checkpoint, so the change can be checked by hand.
        training: { lr: 0.5, batch: 40, samples: 40, epochs, checkpoints: { steps: [epochs - 1] } },
      }),
    });
  for (const engine of ['kernel', 'tfjs'] as const)
    it(`is the largest parameter change over the last epoch, and the rule 0.01·lr says whether it settled (${engine})`, async () => {
      for (const [epochs, settled] of [
        [20, false],
        [3000, true],
      ] as const) {
        const records = await lastValueFrom(trainRuns(runsFor(epochs, engine === 'tfjs'), { engine }).pipe(toArray()));
        const snaps = records.filter((r) => r.kind === 'snapshot');
        const runs = records.filter((r) => r.kind === 'run');
        expect(runs).toHaveLength(4);
        for (const r of runs) {
          const [before, after] = [epochs - 1, epochs].map(
            (step) => snaps.find((s) => s.run_id === r.run.run_id && s.step === step)!,
          );
          expect(r.max_param_change).toBe(maxParamChange(before.params, after.params));
          expect(r.max_param_change!).toBeGreaterThan(0);
          expect(r.converged).toBe(r.max_param_change! <= 0.01 * 0.5);
          expect(r.converged).toBe(settled);
        }
      }
    }, 120_000);
});

describe('early stop (training.stop)', () => {
  // 4 minibatches an epoch, so a checkpoint can fall inside an epoch or at its end.
  const runsFor = (epochs: number, stop: number | null, checkpoints: RunSpec['training']['checkpoints']) =>
    sweepRuns({
      seed: 1,
      grid: { activation: ['tanh', 'relu'] as const },
      seeds: 2,
      run: (p, s) => ({
        task: unstructured({ P: 4, N: 20, sigma: 0.2, seed: s.task }),
        network: { activation: p.activation, width: 16 },
        training: {
          lr: 0.5,
          batch: 10,
          samples: 40,
          epochs,
          checkpoints,
          ...(stop === null ? {} : { stop: { maxParamChange: stop } }),
        },
      }),
    });
  const RULE = 0.003;
  for (const engine of ['kernel', 'tfjs'] as const)
    it(`stops each network at the first epoch whose largest change is within the rule, and keeps what it stopped with (${engine})`, async () => {
      // The reference: the same ensemble without the rule, a checkpoint at every epoch's end.
      const reference = (
        await lastValueFrom(trainRuns(runsFor(300, null, { every: 4 }), { engine }).pipe(toArray()))
      ).filter((r) => r.kind === 'snapshot');
      const firstWithin = new Map<string, number>();
      for (const id of new Set(reference.map((s) => s.run_id))) {
        const mine = reference.filter((s) => s.run_id === id).sort((a, b) => a.step - b.step);
        const e = mine.slice(1).findIndex((s, i) => maxParamChange(mine[i].params, s.params) <= RULE);
        firstWithin.set(id, e < 0 ? Infinity : e + 1);
      }
      const at = (id: string, epoch: number) => reference.find((s) => s.run_id === id && s.step === epoch * 4)!;
      const epochs = [...firstWithin.values()].sort((a, b) => a - b);
      expect(epochs[0]).toBeGreaterThan(1);
      expect(epochs[3]).toBeLessThan(300); // with 300 epochs all four stop, so the ensemble ends early
      for (const total of [epochs[2], 300]) {
        // total = the third stop epoch: the last network never meets the rule within it.
        const records = await lastValueFrom(
          trainRuns(runsFor(total, RULE, { logSpaced: 12 }), { engine }).pipe(toArray()),
        );
        const snaps = records.filter((r) => r.kind === 'snapshot');
        // An ensemble (one activation, two seeds) ends when its last network stops, or at `total`.
        const members = (ensemble: string) =>
          records
            .filter((x) => x.kind === 'run' && x.run.ensemble_id === ensemble)
            .map((x) => (x as RunRecord).run.run_id);
        const ensembleEnd = (ensemble: string) => Math.max(...members(ensemble).map((id) => firstWithin.get(id)!));
        for (const r of records.filter((x) => x.kind === 'run')) {
          const id = r.run.run_id;
          const e = firstWithin.get(id)!;
          const mine = snaps.filter((s) => s.run_id === id).sort((a, b) => a.step - b.step);
          expect(mine.at(-1)!.final).toBe(true);
          expect(mine.filter((s) => s.final)).toHaveLength(1);
          const end = Math.min(total, ensembleEnd(r.run.ensemble_id)) * 4;
          expect(r.steps).toBe(end);
          expect(mine.at(-1)!.step).toBe(end);
          if (e <= total) {
            expect(r.stop_epoch).toBe(e);
            expect(r.converged).toBe(true);
            expect(r.max_param_change!).toBeLessThanOrEqual(RULE);
            expect(r.max_param_change).toBe(maxParamChange(at(id, e - 1).params, at(id, e).params));
            // Every checkpoint from the stop on carries the stopped network.
            for (const s of mine.filter((x) => x.step >= e * 4)) {
              expect(s.params.W).toEqual(at(id, e).params.W);
              expect(s.loss).toBe(at(id, e).loss);
            }
            // …and none before it does.
            for (const s of mine.filter((x) => x.step < e * 4)) expect(s.params.W).not.toEqual(at(id, e).params.W);
          } else {
            expect(r.stop_epoch).toBeNull();
            expect(mine.at(-1)!.params.W).toEqual(at(id, total).params.W);
          }
        }
      }
    }, 120_000);

  it('stops the same networks at the same epochs on a worker pool', async () => {
    const outcome = async (workers: number) =>
      // A checkpoint every epoch: a stopped network is sent from the worker many times.
      (await lastValueFrom(trainRuns(runsFor(300, RULE, { every: 4 }), { workers }).pipe(toArray())))
        .filter((r) => r.kind === 'run')
        .map((r) => [r.run.run_id, r.stop_epoch, r.steps, r.final_loss])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))); // the workers finish in any order
    const one = await outcome(1);
    expect(one.filter((r) => r[1] !== null).length).toBeGreaterThan(0);
    expect(await outcome(2)).toEqual(one);
  });

  it('is validated like every other option', () => {
    const bad = (stop: unknown) => () =>
      sweepRuns({
        seed: 1,
        grid: { activation: ['tanh'] as const },
        seeds: 1,
        run: (_, s) => ({
          task: unstructured({ P: 4, N: 20, sigma: 0.2, seed: s.task }),
          training: { stop } as never,
        }),
      });
    expect(bad({ maxParamChange: 0 })).toThrow(
      /training.stop.maxParamChange: received 0; accepted: a finite number > 0/,
    );
    expect(bad({ maxParamChange: 1e-5, patience: 3 })).toThrow(
      /training.stop.patience: received 3; accepted: only the options maxParamChange/,
    );
    expect(bad(5)).toThrow(/training.stop: received 5; accepted: \{ maxParamChange: x \}/);
  });
});
