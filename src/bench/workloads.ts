/**
 * Benchmark workloads of `geomstream bench`: each runs geomstream's own path once and returns
 * what it measured; the Python references (bench/reference/) run the same workloads with PyTorch
 * or numpy + scikit-learn, in the same invocation, alternating with ours.
 */
import { writeFileSync } from 'node:fs';
import { trainEnsemble } from '../engine/training.js';
import { shareMatrix, shatteringDimensionalityParallel } from '../parallel/metrics.js';
import { pooled } from '../parallel/metrics.js';
import type { WorkerPool } from '../parallel/pool.js';
import { sweepRuns } from '../sources/sweep.js';
import { alignedParity } from '../sources/aligned-parity.js';
import { Rng } from '../random.js';
import {
  linearCKA,
  debiasedCKA,
  rbfCKA,
  rdm,
  compareRdms,
  parallelismScore,
  participationRatio,
  sparsity,
  conditionFolds,
  balancedDichotomies,
} from '../metrics/index.js';
import type { Matrix } from '../types.js';

/**
 * A training workload: an ensemble of `networks` networks, N = 100 → width → … (depth hidden
 * layers) → d sigmoid outputs, batch 64, 5000 samples.
 */
export interface TrainWorkload {
  kind: 'train';
  name: string;
  description: string;
  networks: number;
  width: number;
  /** Latent bits: P = 2^bits conditions, k = bits targets. */
  bits: number;
  /** Timed epochs (one more is run first as a warm-up). */
  epochs: number;
  /** Hidden layers (default 1). */
  depth?: number;
  /** Default tanh; the reference takes the name and its one parameter (beta, alpha). */
  activation?: 'tanh' | 'sigmoid' | 'gelu' | { name: 'softplus'; beta: number } | { name: 'elu'; alpha: number };
  /** Default sgd (lr 0.1); adam has lr 1e-3. */
  optimizer?: 'sgd' | 'adam';
  /** Default frozen. */
  readout?: 'frozen' | 'trained';
}

/** A training workload's options with their defaults. */
export function trainOptions(w: TrainWorkload) {
  const optimizer = w.optimizer ?? 'sgd';
  return {
    depth: w.depth ?? 1,
    activation: w.activation ?? 'tanh',
    optimizer,
    readout: w.readout ?? 'frozen',
    lr: optimizer === 'adam' ? 1e-3 : 0.1,
  };
}

/** The workload's options as arguments of bench/reference/train_reference.py. */
export function referenceArgs(w: TrainWorkload): string[] {
  const o = trainOptions(w);
  const act = typeof o.activation === 'string' ? { name: o.activation } : o.activation;
  return [
    `--depth=${o.depth}`,
    `--optimizer=${o.optimizer}`,
    `--readout=${o.readout}`,
    `--lr=${o.lr}`,
    `--activation=${act.name}`,
    ...('beta' in act ? [`--beta=${act.beta}`] : []),
    ...('alpha' in act ? [`--alpha=${act.alpha}`] : []),
  ];
}

const W1 = {
  kind: 'train',
  networks: 10,
  width: 128,
  bits: 3,
  epochs: 10,
} as const;

/** The metrics workload: the full metric set on one representation. */
export interface MetricsWorkload {
  kind: 'metrics';
  name: string;
  description: string;
  conditions: number;
  units: number;
  samples: number;
  /** Classifier of the decoding metrics (CCGP, decodability, SD). */
  classifier: 'svm' | 'ridge';
}

/** Ingestion: checkpoints of the W1 network shape (N = 100, H = 128, K = 3) read from safetensors files. */
export interface IngestWorkload {
  kind: 'ingest';
  name: string;
  description: string;
  /** Checkpoint files. */
  files: number;
  /** false: a folder read through (vs the Python path); true: watched while files are renamed into place every `interval` ms (latency, RSS). */
  watch: boolean;
  interval?: number;
}

/** The cost of the null models: each metric on one representation, alone and with `null: { samples: draws }` (src/bench/nulls.ts). */
export interface NullsWorkload {
  kind: 'nulls';
  name: string;
  description: string;
  conditions: number;
  units: number;
  samples: number;
  /** Null draws per value. */
  draws: number;
}

/** The default pipeline's whole work against the PyTorch + scikit-learn script doing the same (src/bench/e2e.ts). */
export interface E2eWorkload {
  kind: 'e2e';
  name: string;
  description: string;
}

export type Workload = TrainWorkload | MetricsWorkload | IngestWorkload | NullsWorkload | E2eWorkload;

export const WORKLOADS: Workload[] = [
  {
    kind: 'train',
    name: 'W1',
    description: '10 networks, 100 → 128 tanh → 3 sigmoid, frozen readout, SGD lr 0.1, batch 64, 5000 samples',
    networks: 10,
    width: 128,
    bits: 3,
    epochs: 10,
  },
  { kind: 'train', name: 'W1-wide', description: 'W1 with width 512', networks: 10, width: 512, bits: 3, epochs: 3 },
  {
    ...W1,
    name: 'W-deep5-adam',
    description: 'W1 with 5 hidden layers, Adam lr 1e-3, trained readout',
    depth: 5,
    optimizer: 'adam',
    readout: 'trained',
    epochs: 5,
  },
  {
    ...W1,
    name: 'W-deep10-adam',
    description: 'W1 with 10 hidden layers, Adam lr 1e-3, trained readout',
    depth: 10,
    optimizer: 'adam',
    readout: 'trained',
    epochs: 4,
  },
  { ...W1, name: 'W1-adam', description: 'W1 with Adam lr 1e-3', optimizer: 'adam' },
  { ...W1, name: 'W1-trained-readout', description: 'W1 with a trained readout', readout: 'trained' },
  { ...W1, name: 'W1-sigmoid', description: 'W1 with sigmoid', activation: 'sigmoid' },
  { ...W1, name: 'W1-gelu', description: 'W1 with gelu (exact, x·Φ(x))', activation: 'gelu' },
  { ...W1, name: 'W1-softplus', description: 'W1 with softplus (beta 1)', activation: { name: 'softplus', beta: 1 } },
  { ...W1, name: 'W1-elu', description: 'W1 with elu (alpha 1)', activation: { name: 'elu', alpha: 1 } },
  {
    kind: 'train',
    name: 'W1-32c',
    description: 'W1 on 32 conditions (d = 5, k = 5)',
    networks: 10,
    width: 128,
    bits: 5,
    epochs: 10,
  },
  {
    kind: 'metrics',
    name: 'metrics',
    description: 'full metric set on one representation: 8 conditions, 128 units, 5000 noisy samples (SVM)',
    conditions: 8,
    units: 128,
    samples: 5000,
    classifier: 'svm',
  },
  {
    kind: 'ingest',
    name: 'ingest',
    description:
      '200 safetensors checkpoints (100 → 128 tanh → 3), probed; linear/debiased CKA and RSA vs input and target, PS and CCGP per target; rows to Parquet',
    files: 200,
    watch: false,
  },
  {
    kind: 'ingest',
    name: 'ingest-watch',
    description:
      'analyze --watch with kernel alignment and PS while 300 checkpoints are renamed into place every 50 ms: latency rename → row, RSS',
    files: 300,
    watch: true,
    interval: 50,
  },
  {
    kind: 'ingest',
    name: 'ingest-watch-10k',
    description: 'the same over 10,000 checkpoints (every 10 ms): RSS stays flat',
    files: 10_000,
    watch: true,
    interval: 10,
  },
  {
    kind: 'metrics',
    name: 'metrics-ridge',
    description: 'the same with the ridge classifier (vs scikit-learn RidgeClassifier)',
    conditions: 8,
    units: 128,
    samples: 5000,
    classifier: 'ridge',
  },
  {
    kind: 'nulls',
    name: 'metrics-null',
    description:
      "each metric through geometry on the default pipeline's probe (8 conditions, 128 units, 400 noisy samples), alone and with null: { samples: 100 }",
    conditions: 8,
    units: 128,
    samples: 400,
    draws: 100,
  },
  {
    kind: 'e2e',
    name: 'e2e',
    description:
      'the default pipeline whole (40 networks, 60 epochs, 13 checkpoints of kernel alignment and PS, final CCGP and SD, Parquet)',
  },
];

/** Useful floating-point operations of one training step of one network (matmuls only). */
export function flopsPerNetworkStep(w: TrainWorkload, batch = 64, N = 100): number {
  const K = w.bits,
    H = w.width;
  const { depth, readout } = trainOptions(w);
  // forward x·W, h·W_l and h·J; backward xᵀ·δ and hᵀ·δ_l, δ_l·W_lᵀ and g·Jᵀ; a trained readout's hᵀ·g
  const forward = N * H + (depth - 1) * H * H + H * K;
  const backward = N * H + 2 * (depth - 1) * H * H + H * K + (readout === 'trained' ? H * K : 0);
  return 2 * batch * (forward + backward);
}

/**
 * Train the workload with geomstream; returns network-steps per second over the timed epochs.
 * With a worker pool, the ensemble is split into one sub-ensemble per worker (a network trains to
 * the same weights in any ensemble), trained at once.
 */
export async function runTrain(
  w: TrainWorkload,
  pool: WorkerPool | null = null,
  engine?: string,
): Promise<{ netStepsPerSec: number; seconds: number; engine: string }> {
  const o = trainOptions(w);
  const runs = sweepRuns({
    seed: 1,
    grid: { workload: [w.name] },
    seeds: w.networks,
    run: (_p, s) => ({
      task: alignedParity({
        d: w.bits,
        k: w.bits,
        alignment: Math.sqrt(w.bits / (2 ** w.bits - 1)),
        N: 100,
        sigma: 1,
        seed: s.task,
      }),
      network: { activation: o.activation, width: w.width, readout: o.readout, depth: o.depth },
      training: {
        lr: o.lr,
        optimizer: o.optimizer,
        batch: 64,
        samples: 5000,
        epochs: w.epochs + 1,
        checkpoints: { steps: [] },
      },
    }),
  });
  const parts = pool
    ? Array.from({ length: pool.size }, (_, i) => runs.filter((_r, k) => k % pool.size === i)).filter((p) => p.length)
    : [runs];
  // The first epoch of every part is a warm-up (kernels compile, memory grows): time from the
  // moment all parts have finished it, counting the network-steps done after that.
  let netSteps = 0;
  let started = 0;
  let warm = 0;
  const epochs = parts.map(() => 0);
  const onSteps = (part: number) => (n: number) => {
    if (epochs[part]++ === 0) {
      if (++warm === parts.length) started = performance.now();
    } else if (started) netSteps += n;
  };
  let used = 'unknown';
  await Promise.all(
    parts.map(async (part, i) => {
      const events = pool
        ? pool.train(part, { onSteps: onSteps(i) })
        : trainEnsemble(part, { onSteps: onSteps(i), engine });
      for await (const ev of events) if (ev.type === 'checkpoint') used = ev.engine; // checkpoints at 0 and the end only
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { netStepsPerSec: netSteps / seconds, seconds, engine: used };
}

/** The metrics problem: condition means, noisy samples (tanh of noisy Gaussian patterns), inputs and targets. */
export function metricsProblem(w: MetricsWorkload, seed = 1) {
  const rng = new Rng(seed);
  const P = w.conditions,
    H = w.units,
    per = Math.floor(w.samples / P),
    N = 100;
  const bits = Math.log2(P);
  const latent = Array.from({ length: P }, () => Array.from({ length: H }, () => rng.normal()));
  const samples = new Float64Array(P * per * H);
  const conditions = new Int32Array(P * per);
  for (let p = 0; p < P; p++)
    for (let i = 0; i < per; i++) {
      conditions[p * per + i] = p;
      for (let j = 0; j < H; j++) samples[(p * per + i) * H + j] = Math.tanh(latent[p][j] + 1.5 * rng.normal());
    }
  const means = latent.map((r) => r.map(Math.tanh));
  const inputs = Array.from({ length: P }, () => Array.from({ length: N }, () => rng.normal()));
  const targets = Array.from({ length: P }, (_, p) => Array.from({ length: bits }, (_, i) => (p >> i) & 1));
  const folds = conditionFolds(conditions, P, 5, 0);
  return {
    means,
    inputs,
    targets,
    samples: { rows: P * per, cols: H, data: samples } as Matrix,
    conditions,
    folds,
    dichotomies: balancedDichotomies(P),
  };
}

/** Write the metrics problem as JSON for the Python reference. */
export function writeMetricsProblem(problem: ReturnType<typeof metricsProblem>, path: string): void {
  const { samples, conditions, folds, ...rest } = problem;
  const rows = Array.from({ length: samples.rows }, (_, i) =>
    Array.from(samples.data.subarray(i * samples.cols, (i + 1) * samples.cols)),
  );
  writeFileSync(
    path,
    JSON.stringify({ ...rest, samples: rows, conditions: Array.from(conditions), folds: Array.from(folds) }),
  );
}

/**
 * The full metric set of docs/science.md §3 on one representation, as the Python reference computes it.
 * With a worker pool, the decoding metrics (every classifier fit) run on its workers, shattering
 * dimensionality split by dichotomy; the numbers are the same.
 */
export async function allMetrics(
  problem: ReturnType<typeof metricsProblem>,
  classifier: 'svm' | 'ridge' = 'svm',
  pool: WorkerPool | null = null,
): Promise<Record<string, number>> {
  const { means, inputs, targets, conditions } = problem;
  const samples = pool ? shareMatrix(problem.samples) : problem.samples;
  const t = targets.map((r) => r.map((v) => 2 * v - 1));
  const out: Record<string, number> = {};
  for (const [name, ref] of [
    ['input', inputs],
    ['target', t],
  ] as const) {
    out[`kernel_alignment/${name}`] = linearCKA(means, ref);
    out[`debiased_cka/${name}`] = debiasedCKA(means, ref);
    out[`rbf_cka/${name}`] = rbfCKA(means, ref);
    out[`rsa/${name}`] = compareRdms(rdm(means), rdm(ref), 'spearman');
  }
  out['rsa_kendall/input'] = compareRdms(rdm(means), rdm(inputs), 'kendall');
  const pending: Array<Promise<void>> = [];
  const later = (key: string, value: Promise<{ value: number }>) =>
    pending.push(
      value.then((r) => {
        out[key] = r.value;
      }),
    );
  later('sd', shatteringDimensionalityParallel(samples, conditions, { classifier, folds: 5, seed: 0 }, pool));
  for (let k = 0; k < targets[0].length; k++) {
    const pos = targets.map((r, p) => (r[k] > 0.5 ? p : -1)).filter((p) => p >= 0);
    const labels = targets.map((r) => r[k]);
    out[`ps/target${k}`] = parallelismScore(means, pos).value;
    later(`ccgp/target${k}`, pooled(pool, 'ccgp', samples, conditions, pos, { classifier }));
    later(
      `decodability/target${k}`,
      pooled(pool, 'decodability', samples, conditions, labels, { classifier, folds: 5, seed: 0 }),
    );
  }
  await Promise.all(pending);
  out.participation_ratio = participationRatio(samples);
  out.sparsity = sparsity(means);
  return out;
}
