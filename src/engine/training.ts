/**
 * The training loop of one ensemble (`trainEnsemble`) and the two engines it can run on:
 *   - `kernel`: geomstream's fused WebAssembly SIMD kernel (kernel/);
 *   - `tfjs`: TensorFlow.js tensor ops (`Ensemble`).
 * Both train every network geomstream defines (any depth, SGD or Adam, every activation). `auto`
 * (the default) takes the kernel, unless the backend is `tensorflow` (tfjs-node, native
 * TensorFlow), where tfjs is used. Both compute the same gradients in float32;
 * a network trained on one matches the other to float32 rounding (test/kernel.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NetworkParams, TrainedRunSpec as RunSpec } from '../types.js';
import { Rng, canonicalJson } from '../random.js';
import { ConfigError } from '../errors.js';
import { resolveActivation } from '../activations.js';
import { checkpointSteps, stepsPerEpoch } from '../config.js';
import { Ensemble } from './ensemble.js';
import { initialParams } from './init.js';
import { KernelEnsemble } from './kernel/ensemble.js';

export const ENGINES = ['auto', 'kernel', 'tfjs'] as const;
export type EngineChoice = (typeof ENGINES)[number];
export type EngineName = Exclude<EngineChoice, 'auto'>;

/** One checkpoint of an ensemble: the members still training, with their loss, accuracy and weights. */
export interface CheckpointEvent {
  type: 'checkpoint';
  step: number;
  epoch: number;
  /** True at the last step of training. */
  final: boolean;
  /** The engine that trains this ensemble. */
  engine: EngineName;
  members: Array<{
    index: number;
    loss: number;
    accuracy: number;
    params: NetworkParams;
    /**
     * At the final checkpoint: the largest |Δθ| of the network's parameters over the last epoch it
     * trained; else null.
     */
    maxParamChange: number | null;
    /** With `training.stop`: the epoch at whose end the network stopped, once it has; else null. */
    stoppedEpoch: number | null;
  }>;
}

/** A member whose loss became NaN or infinite at `step`; it emits nothing more. */
export interface DivergedEvent {
  type: 'diverged';
  index: number;
  step: number;
}

export type TrainEvent = CheckpointEvent | DivergedEvent;

/** A network's parameters in new arrays. */
function copyParams(p: NetworkParams): NetworkParams {
  return {
    ...p,
    W: p.W.slice(),
    b1: p.b1.slice(),
    J: p.J.slice(),
    b2: p.b2.slice(),
    ...(p.layers ? { layers: p.layers.map((l) => ({ ...l, W: l.W.slice(), b: l.b.slice() })) } : {}),
  };
}

/** max |a − b| over every parameter of two states of one network (a frozen readout contributes 0). */
export function maxParamChange(a: NetworkParams, b: NetworkParams): number {
  let m = 0;
  const pairs: Array<[ArrayLike<number>, ArrayLike<number>]> = [
    [a.W, b.W],
    [a.b1, b.b1],
    [a.J, b.J],
    [a.b2, b.b2],
    ...(a.layers ?? []).flatMap((l, i) => [
      [l.W, b.layers![i].W] as [ArrayLike<number>, ArrayLike<number>],
      [l.b, b.layers![i].b] as [ArrayLike<number>, ArrayLike<number>],
    ]),
  ];
  for (const [x, y] of pairs) for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** The fields that must agree for runs to train as one ensemble. */
export function ensembleKey(run: RunSpec): string {
  return canonicalJson({ e: run.ensemble_id, t: run.task.id, d: run.data_seed, n: run.network, tr: run.training });
}

export interface TrainEnsembleOptions {
  /** Called after each epoch with the number of network-steps just done. */
  onSteps?: (networkSteps: number) => void;
  /** 'auto' (default: GEOMSTREAM_ENGINE, else auto), 'kernel' or 'tfjs'; see the module comment. */
  engine?: string;
}

/** The engine choice from an option or GEOMSTREAM_ENGINE, validated. */
export function engineChoice(requested?: string): EngineChoice {
  const want = requested ?? 'auto';
  if (!(ENGINES as readonly string[]).includes(want))
    throw new ConfigError('engine', want, ENGINES.map((e) => `'${e}'`).join(', '));
  return want as EngineChoice;
}

/**
 * Whether an ensemble trains on the kernel: with 'kernel' always, with 'auto' unless the backend is
 * tensorflow (native TensorFlow trains those itself), with 'tfjs' never. The kernel trains every
 * network geomstream defines (any depth, SGD or Adam, every activation, frozen or trained readout).
 */
export function trainsOnKernel(choice: EngineChoice, backend: string): boolean {
  return choice === 'kernel' || (choice === 'auto' && backend !== 'tensorflow');
}

/** What `trainEnsemble` needs of an engine. Rows are indices into the training set. */
interface TrainingEngine {
  readonly name: EngineName;
  /** One optimizer step on rows order[start, start + size); keeps each network's loss for `takeLosses`. */
  step(order: Int32Array, start: number, size: number, lr: number): void;
  /** The losses of the steps since the last call, [steps, S]. */
  takeLosses(): ArrayLike<number>;
  /** Mean BCE and bit accuracy per network on the whole training set. */
  evaluate(): { loss: Float64Array; accuracy: Float64Array };
  params(): NetworkParams[];
  dispose(): void;
}

/** The tfjs engine: minibatches assembled in JS and uploaded with their transpose. */
class TfjsEngine implements TrainingEngine {
  readonly name = 'tfjs';
  private readonly X: tf.Tensor2D;
  private readonly Y: tf.Tensor2D;
  private readonly xb: Float32Array;
  private readonly xbT: Float32Array;
  private readonly yb: Float32Array;
  private pending: tf.Tensor1D[] = [];

  constructor(
    private readonly ensemble: Ensemble,
    private readonly x: Float32Array,
    private readonly y: Float32Array,
    n: number,
    batch: number,
  ) {
    const { N, K } = ensemble;
    this.X = tf.tidy(() => Ensemble.withBias(tf.tensor2d(x, [n, N])));
    this.Y = tf.tensor2d(y, [n, K]);
    this.xb = new Float32Array(batch * (N + 1));
    this.xbT = new Float32Array(batch * (N + 1));
    this.yb = new Float32Array(batch * K);
  }

  step(order: Int32Array, start: number, size: number, lr: number): void {
    // tfjs-wasm's slice and gather on the device copy far more than they return (slicing 64 rows
    // of a [5000, 101] tensor measured 3.6 ms; uploading a [64, 101] buffer 0.015 ms).
    const { N, K } = this.ensemble;
    const { xb, xbT, yb } = this;
    for (let r = 0; r < size; r++) {
      const src = order[start + r];
      const row = this.x.subarray(src * N, (src + 1) * N);
      xb.set(row, r * (N + 1));
      xb[r * (N + 1) + N] = 1;
      for (let j = 0; j < N; j++) xbT[j * size + r] = row[j];
      xbT[N * size + r] = 1;
      yb.set(this.y.subarray(src * K, (src + 1) * K), r * K);
    }
    const x1 = tf.tensor2d(xb.subarray(0, size * (N + 1)), [size, N + 1]);
    const x1T = tf.tensor2d(xbT.subarray(0, size * (N + 1)), [N + 1, size]);
    const y = tf.tensor2d(yb.subarray(0, size * K), [size, K]);
    this.pending.push(this.ensemble.step(x1, y, lr, x1T));
    tf.dispose([x1, x1T, y]);
  }

  takeLosses(): ArrayLike<number> {
    if (!this.pending.length) return [];
    const stacked = tf.stack(this.pending);
    const values = stacked.dataSync();
    tf.dispose([stacked, ...this.pending]);
    this.pending = [];
    return values;
  }

  evaluate() {
    return this.ensemble.evaluate(this.X, this.Y);
  }

  params(): NetworkParams[] {
    return this.ensemble.params();
  }

  dispose(): void {
    tf.dispose(this.pending);
    this.ensemble.dispose();
    tf.dispose([this.X, this.Y]);
  }
}

/** The kernel engine: minibatch rows copied straight into the kernel's input buffer. */
class KernelEngine implements TrainingEngine {
  readonly name = 'kernel';
  private readonly yb: Float32Array;
  private readonly stepLoss: Float64Array;
  private losses: number[] = [];

  constructor(
    private readonly kernel: KernelEnsemble,
    private readonly x: Float32Array,
    private readonly y: Float32Array,
    private readonly n: number,
    batch: number,
  ) {
    this.yb = new Float32Array(batch * kernel.K);
    this.stepLoss = new Float64Array(kernel.S);
  }

  step(order: Int32Array, start: number, size: number, lr: number): void {
    const { N, K } = this.kernel;
    for (let r = 0; r < size; r++) {
      const src = order[start + r];
      this.kernel.input(r).set(this.x.subarray(src * N, (src + 1) * N));
      this.yb.set(this.y.subarray(src * K, (src + 1) * K), r * K);
    }
    this.kernel.step(size, this.yb, lr, this.stepLoss);
    for (const l of this.stepLoss) this.losses.push(l);
  }

  takeLosses(): ArrayLike<number> {
    const l = this.losses;
    this.losses = [];
    return l;
  }

  evaluate() {
    return this.kernel.evaluate(this.x, this.y, this.n);
  }

  params(): NetworkParams[] {
    return this.kernel.params();
  }

  dispose(): void {
    /* the kernel's memory is garbage-collected with it */
  }
}

/**
 * Train the runs of one ensemble (same task, data seed, network and training configuration;
 * different network seeds) and yield their checkpoints and divergences as they happen.
 *
 * The training set (`training.samples` noisy samples) and the minibatch order (reshuffled every
 * epoch) come from `data_seed`, so a network gets the same batches alone or in any ensemble.
 * Divergence is checked on every step's loss (read once per epoch) and at checkpoints.
 */
export async function* trainEnsemble(runs: RunSpec[], options: TrainEnsembleOptions = {}): AsyncGenerator<TrainEvent> {
  const first = runs[0];
  const key = ensembleKey(first);
  for (const r of runs) {
    if (ensembleKey(r) !== key)
      throw new ConfigError(
        'runs (an ensemble)',
        r.run_id,
        `runs that differ from ${first.run_id} only in their seeds`,
      );
  }
  const { task, network, training } = first;
  const act = resolveActivation(network.activation, 'network.activation');
  const useKernel = trainsOnKernel(engineChoice(options.engine), tf.getBackend());

  const S = runs.length;
  const N = task.N,
    K = task.K,
    H = network.width;
  const perEpoch = stepsPerEpoch(training);
  const total = training.epochs * perEpoch;
  const schedule = new Set(checkpointSteps(training.checkpoints, total));

  const data = task.sample(training.samples, first.data_seed);
  const yData = new Float32Array(training.samples * K);
  for (let i = 0; i < training.samples; i++) {
    for (let k = 0; k < K; k++) yData[i * K + k] = task.targets.data[data.conditions[i] * K + k];
  }
  const order = new Rng(first.data_seed ^ 0x5bd1e995);
  const params = runs.map((r) => initialParams(r.seed, N, H, K, network.init, network.depth));
  const engine: TrainingEngine = useKernel
    ? new KernelEngine(
        await KernelEnsemble.create(params, act, network.readout, training.batch, training.optimizer),
        data.x,
        yData,
        training.samples,
        training.batch,
      )
    : new TfjsEngine(
        new Ensemble(params, act, network.readout, training.optimizer),
        data.x,
        yData,
        training.samples,
        training.batch,
      );
  const alive = new Array<boolean>(S).fill(true);
  // Networks that met the early-stop rule: what they stopped with. The engine goes on updating
  // them with the others (an ensemble steps together), but nothing of that is ever reported.
  const stopped: Array<{
    epoch: number;
    loss: number;
    accuracy: number;
    params: NetworkParams;
    change: number;
  } | null> = new Array(S).fill(null);
  const stopRule = training.stop?.maxParamChange;

  // The parameters at the start of the last epoch, for the final checkpoint's max_param_change.
  let lastEpochStart: NetworkParams[] | null = null;
  function* checkpoint(step: number, final = step === total): Generator<TrainEvent> {
    const { loss, accuracy } = engine.evaluate();
    const params = engine.params();
    const change = final && lastEpochStart ? lastEpochStart : null;
    const members: CheckpointEvent['members'] = [];
    for (let s = 0; s < S; s++) {
      if (!alive[s]) continue;
      const frozen = stopped[s];
      if (frozen) {
        members.push({
          index: s,
          loss: frozen.loss,
          accuracy: frozen.accuracy,
          // A copy per checkpoint: each event owns its arrays (a worker transfers them away).
          params: copyParams(frozen.params),
          maxParamChange: final ? frozen.change : null,
          stoppedEpoch: frozen.epoch,
        });
        continue;
      }
      if (!Number.isFinite(loss[s])) {
        alive[s] = false;
        yield { type: 'diverged', index: s, step };
        continue;
      }
      members.push({
        index: s,
        loss: loss[s],
        accuracy: accuracy[s],
        params: params[s],
        maxParamChange: change ? maxParamChange(change[s], params[s]) : null,
        stoppedEpoch: null,
      });
    }
    if (members.length) yield { type: 'checkpoint', step, epoch: step / perEpoch, final, engine: engine.name, members };
  }

  /**
   * At an epoch's end: the networks whose largest parameter change over it is within the rule stop.
   * Returns the parameters now, which are the next epoch's start.
   */
  function stopConverged(epoch: number, start: NetworkParams[]): NetworkParams[] {
    const now = engine.params();
    let evaluated: { loss: Float64Array; accuracy: Float64Array } | null = null;
    for (let s = 0; s < S; s++) {
      if (!alive[s] || stopped[s]) continue;
      const change = maxParamChange(start[s], now[s]);
      if (!(change <= stopRule!)) continue; // called only with a rule
      evaluated ??= engine.evaluate();
      if (!Number.isFinite(evaluated.loss[s])) continue; // diverging: the checks below report it
      stopped[s] = { epoch, loss: evaluated.loss[s], accuracy: evaluated.accuracy[s], params: now[s], change };
    }
    return now;
  }

  let pendingStart = 0;
  function* flushLosses(): Generator<TrainEvent> {
    const values = engine.takeLosses();
    const steps = values.length / S;
    for (let t = 0; t < steps; t++) {
      for (let s = 0; s < S; s++) {
        // A stopped network's copy in the engine is not reported, not even when it diverges.
        if (alive[s] && !stopped[s] && !Number.isFinite(values[t * S + s])) {
          alive[s] = false;
          yield { type: 'diverged', index: s, step: pendingStart + t + 1 };
        }
      }
    }
  }

  try {
    let step = 0;
    let epoch = 0;
    const stillTraining = () => alive.some((a, s) => a && !stopped[s]);
    // With an early stop: the parameters at the end of the last epoch, the start of the next.
    let carried: NetworkParams[] | null = null;
    yield* checkpoint(0);
    for (; epoch < training.epochs && stillTraining(); epoch++) {
      const perm = order.permutation(training.samples);
      pendingStart = step;
      const epochStart = stopRule !== undefined ? (carried ?? engine.params()) : null;
      if (epoch === training.epochs - 1) lastEpochStart = epochStart ?? engine.params();
      for (let b = 0; b < perEpoch; b++) {
        const start = b * training.batch;
        engine.step(perm, start, Math.min(training.batch, training.samples - start), training.lr);
        step++;
        // A checkpoint at an epoch's last step waits for the early-stop check below: it is the
        // final one if every network stops there.
        if (schedule.has(step) && b < perEpoch - 1) {
          yield* flushLosses();
          pendingStart = step;
          yield* checkpoint(step);
        }
      }
      yield* flushLosses();
      pendingStart = step;
      if (epochStart) carried = stopConverged(epoch + 1, epochStart);
      const done = !stillTraining();
      if (schedule.has(step) || (done && step < total)) yield* checkpoint(step, step === total || done);
      options.onSteps?.(perEpoch * S);
      // Let timers (the progress line) and I/O run between epochs.
      await new Promise((r) => setImmediate(r));
    }
    // Every member diverged or stopped: the remaining epochs are skipped, count them as done.
    if (epoch < training.epochs) options.onSteps?.((training.epochs - epoch) * perEpoch * S);
  } finally {
    engine.dispose();
  }
}
