/**
 * The records that flow through a geomstream pipeline.
 *
 *   Task ─► RunSpec ─► train ─► WeightSnapshot ─► probe ─► Representation ─► geometry ─► MetricRow ─► sinks
 *   checkpoint files ─► fromCheckpoints ─► WeightSnapshot ┘                 │
 *   activation files ─► fromActivations ─► Representation ──────────────────┘
 *
 * Every record carries a `kind` tag so that one stream can carry several record types: each
 * operator transforms the kind it knows and passes the others through unchanged (a `RunRecord`
 * emitted by `train` travels past `probe` and `geometry` to the results sink).
 */
import type { ActivationSpec } from './activations.js';

/** A dense row-major matrix. Metrics accept this or `number[][]`. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array | Float32Array;
}

/** What a metric accepts as a matrix: nested arrays or a dense row-major matrix. */
export type MatrixLike = number[][] | Matrix;

/** A scalar configuration value, as it appears in a column of `runs.parquet`. */
export type Scalar = number | string | boolean | null;

/** A batch of noisy samples: `x` is n × N row-major, `conditions[i]` the condition of row i. */
export interface SampleBatch {
  n: number;
  x: Float32Array;
  conditions: Int32Array;
}

/** The task families: the three of docs/science.md, and 'external' (targets, and perhaps inputs, given by the user). */
export type TaskFamily = 'aligned-parity' | 'random-kernel' | 'separable-xor' | 'unstructured' | 'external';

/**
 * A task: P conditions, each with a noise-free input mean (length N), a target vector
 * (K binary labels) and its latent variables. Samples are `mu_p + sigma * noise`.
 * An 'external' task (activations of a model geomstream did not train) may have no inputs: then
 * N = 0 and `means` is P × 0; and it has no sampler (`sigma` null; `sample` throws).
 */
export interface Task {
  /** Stable identity: the family and every parameter, including the task seed. */
  id: string;
  family: TaskFamily;
  /** The family's parameters (d, k, c, N, sigma, eps, ...), as written to runs.parquet. */
  params: Record<string, Scalar>;
  /** Number of conditions. */
  P: number;
  /** Input dimension. */
  N: number;
  /** Number of binary targets (network outputs). */
  K: number;
  /** Input noise scale; null for an external task (its samples, if any, come with it). */
  sigma: number | null;
  /** Condition means, P × N, float64 (P × 0 for an external task given without inputs). */
  means: Matrix;
  /** Targets, P × K, 0/1. */
  targets: Matrix;
  /** Latent variables, P × d (0/1), or null when the family has none. */
  latents: Matrix | null;
  /** The seed the task's own random choices (embedding, patterns) came from. */
  seed: number;
  /** Draw n samples with conditions uniform over the P conditions, from the given seed. */
  sample(n: number, seed: number): SampleBatch;
  /** Draw `perCondition` samples of every condition (conditions in order 0,0,…,1,1,…), from the given seed. */
  sampleBalanced(perCondition: number, seed: number): SampleBatch;
}

/** Readout: frozen at initialisation (the paper's default) or trained. */
export type Readout = 'frozen' | 'trained';

/** The network of docs/science.md §2: h = f(W x + b1), logits = J h + b2, sigmoid + BCE. */
export interface NetworkConfig {
  activation: ActivationSpec;
  /** Hidden width H. */
  width: number;
  readout: Readout;
  /**
   * Initialisation gains: W ~ N(0, (weightScale² / N)), b1 ~ N(0, 1)·biasScale/√N,
   * J ~ N(0, readoutScale² / H), b2 ~ N(0, 1)·biasScale/√H. All default to 1 (the paper's init).
   * Deeper layers: W_l ~ N(0, weightScale² / H), b_l ~ N(0, 1)·biasScale/√H.
   */
  init: { weightScale: number; readoutScale: number; biasScale: number };
  /** Number of hidden layers, all of width H. Default 1. */
  depth: number;
}

/** When to take a weight snapshot. Step 0 and the final step are always included. */
export type CheckpointSchedule = { steps: number[] } | { every: number } | { logSpaced: number };

export interface TrainingConfig {
  /** SGD learning rate. */
  lr: number;
  /** Minibatch size. The last minibatch of an epoch may be smaller (like PyTorch's drop_last = false). */
  batch: number;
  epochs: number;
  /** Number of noisy training samples drawn once from the task (docs/science.md default 5000). */
  samples: number;
  checkpoints: CheckpointSchedule;
  /** 'sgd' (plain SGD, default) or 'adam' (β1 = 0.9, β2 = 0.999, ε = 1e-8, as PyTorch's defaults). */
  optimizer: 'sgd' | 'adam';
  /** Early stop (absent: train every epoch). */
  stop?: StopRule;
}

/**
 * The paper's early stop: a network stops training at the end of the first epoch over which its
 * largest parameter change max |Δθ| is at most `maxParamChange` (the paper: 1e-5 at lr 1e-3).
 * From then on its checkpoints carry the parameters, loss and accuracy it stopped with.
 */
export interface StopRule {
  maxParamChange: number;
}

/** Where a run's records come from: geomstream's trainer, checkpoint files, or activation files. */
export type RecordSource = 'trained' | 'checkpoints' | 'activations';

interface RunBase {
  kind: 'run-spec';
  run_id: string;
  ensemble_id: string;
  /** The sweep coordinates that produced this run (written to runs.parquet as columns). */
  coords: Record<string, Scalar>;
  task: Task;
  /** Where the records come from (the `source` column of runs.parquet). */
  source: RecordSource;
}

/**
 * One network to train: a task, a network configuration, a training configuration and seeds.
 * Runs that differ only in `seed` share `ensemble_id`, training data and minibatch order, and
 * train together as one ensemble.
 */
export interface TrainedRunSpec extends RunBase {
  source: 'trained';
  source_path: null;
  /** Seeds the network's initialisation. */
  seed: number;
  /** Seeds the training samples and the minibatch order (shared by the ensemble). */
  data_seed: number;
  network: NetworkConfig;
  training: TrainingConfig;
}

/** What is known of a network geomstream did not train: its activation (to probe weights) and shape. */
export interface ObservedNetwork {
  /** Null when only activations were given. */
  activation: ActivationSpec | null;
  width: number;
  depth: number;
}

/**
 * A network geomstream did not train, read from files: no seeds, no training configuration
 * (null in runs.parquet, never invented).
 */
export interface IngestedRunSpec extends RunBase {
  source: 'checkpoints' | 'activations';
  /** The file or folder read (the `source_path` column of runs.parquet). */
  source_path: string;
  seed: null;
  /**
   * The seed of the run's data when the files record it (geomstream's own snapshots do, so probe
   * samples match the original run's); else null, and probes draw from the task's seed.
   */
  data_seed: number | null;
  network: ObservedNetwork | null;
  training: null;
}

/** A run: trained by geomstream, or read from another program's files. */
export type RunSpec = TrainedRunSpec | IngestedRunSpec;

/** Network parameters of one network, float32, row-major. W is H × N (row i = neuron i's input weights). */
export interface NetworkParams {
  N: number;
  H: number;
  K: number;
  W: Float32Array;
  b1: Float32Array;
  /** Readout, K × H (from the last hidden layer). */
  J: Float32Array;
  b2: Float32Array;
  /** Hidden layers 2..depth: W is H × H (row i = neuron i's weights from the layer below), b length H. */
  layers?: Array<{ W: Float32Array; b: Float32Array }>;
}

/** Where a record sits: one network (run) of one ensemble at one checkpoint. */
export interface Checkpoint {
  run_id: string;
  ensemble_id: string;
  step: number;
  /** Null for ingested runs (unknown). */
  epoch: number | null;
  /** Mean binary cross-entropy over the whole training set at this step (null for ingested runs). */
  loss: number | null;
  /** Fraction of training-set target bits predicted correctly at this step (null for ingested runs). */
  accuracy: number | null;
  run: RunSpec;
  /** How many snapshots of this ensemble were emitted at this step (diverged members are not). */
  ensemble_size: number;
  /** True at the run's final step (the end of training). */
  final: boolean;
  /** For ingested runs: the file this record was read from (error rows name it). */
  source_file?: string;
}

/** The weights of one network at one checkpoint. */
export interface WeightSnapshot extends Checkpoint {
  kind: 'snapshot';
  params: NetworkParams;
}

/** Hidden activity of one network at one checkpoint. */
export interface Representation extends Checkpoint {
  kind: 'representation';
  /** Which hidden layer (1 = the first). */
  layer: number;
  /** Activity for each condition's noise-free mean, P × H, float64. */
  means: Matrix;
  /** Activity for noisy samples, when the probe asked for them. */
  samples: { activity: Matrix; conditions: Int32Array } | null;
}

/** Whether a metric row describes one network or the ensemble (seed-averaged) kernel. */
export type MetricScope = 'run' | 'ensemble';

/** One number with its coordinates (long / tidy format). Column names are a contract. */
export interface MetricRow {
  kind: 'metric';
  /** The run; for scope = 'ensemble' rows, the ensemble id. */
  run_id: string;
  ensemble_id: string;
  scope: MetricScope;
  step: number;
  epoch: number | null;
  loss: number | null;
  layer: number;
  metric: string;
  /** What the representation is compared with ('input', 'target'), or null. */
  against: string | null;
  /** Which dichotomy ('target0', ...), or null. */
  dichotomy: string | null;
  /** Which classifier produced the value ('svm', 'ridge'), or null. */
  classifier: string | null;
  value: number;
  /**
   * For values from classifier fits: true when every fit met its solver's stopping rule, false
   * when any stopped at its iteration limit first (the value may then be off). Null otherwise.
   * (Not `converged`, which in runs.parquet says whether training settled.)
   */
  fits_converged: boolean | null;
  /**
   * With a metric's `null` option: the null model ('shuffle', 'geometric', 'permutation'), its
   * draws, their mean and sd, and the permutation p-value (1 + #{null ≥ value}) / (1 + draws)
   * (src/metrics/nulls.ts). Null otherwise.
   */
  null_model: string | null;
  null_samples: number | null;
  null_mean: number | null;
  null_sd: number | null;
  p_value: number | null;
}

/** One hidden neuron of one network at one checkpoint, in weight space (docs/science.md §4). */
export interface NeuronRow {
  kind: 'neuron';
  run_id: string;
  step: number;
  epoch: number | null;
  layer: number;
  neuron: number;
  /** Projection of the neuron's input weights on its unit inter-class axis (signed). */
  inter: number;
  /** Norm of their projection on the intra-class subspace orthogonal to it. */
  intra: number;
  /** The intra-class components, when the subspace has at most two dimensions (else null). */
  intra_1: number | null;
  intra_2: number | null;
  /** Norm of the input weights. */
  norm: number;
  /** Conditions whose noise-free pre-activation is above threshold. */
  active_conditions: number[];
  n_active: number;
}

/**
 * One grid point of a neuron's expected-gradient field on its (inter, intra_1) plane: the same
 * coordinates as `NeuronRow.inter` and `NeuronRow.intra_1` (the signed first intra-class
 * component, not the norm `NeuronRow.intra`), so trajectories overlay the field directly.
 */
export interface FieldRow {
  kind: 'field';
  run_id: string;
  step: number;
  neuron: number;
  inter: number;
  intra_1: number;
  /** Descent direction (−expected gradient) along the inter-class axis and the first intra-class axis. */
  d_inter: number;
  d_intra_1: number;
}

export type RunStatus = 'completed' | 'diverged' | 'failed';

/** One finished (or failed) run: one row of runs.parquet. */
export interface RunRecord {
  kind: 'run';
  run: RunSpec;
  status: RunStatus;
  /** The first step at which the loss was NaN or infinite, for status = 'diverged'. */
  diverged_step: number | null;
  /** Error message, for status = 'failed'. */
  error: string | null;
  steps: number;
  final_loss: number | null;
  final_accuracy: number | null;
  /**
   * The largest change of any of the network's trained parameters over its last epoch, |Δθ|∞
   * (null when it did not complete, or was not trained here).
   */
  max_param_change: number | null;
  /**
   * Whether training had settled: max_param_change ≤ the run's early-stop threshold
   * (`training.stop.maxParamChange`), or without one ≤ 0.01·lr, the paper's rule (1e-5 per epoch at
   * lr = 1e-3) scaled with the learning rate, since an SGD epoch moves θ by lr times a sum of
   * gradients (docs/science.md §2). Null where max_param_change is.
   */
  converged: boolean | null;
  /**
   * With `training.stop`: the epoch at whose end the network met the rule and stopped (its
   * later checkpoints repeat what it stopped with); null when it never did, or had no rule.
   */
  stop_epoch: number | null;
  /** The tensor backend that trained it (null for ingested runs). */
  backend: string | null;
  /** The training engine, 'kernel' or 'tfjs' (null when the run failed before training). */
  engine: string | null;
  wall_time_s: number;
}

/** A file an ingestion source could not use: one row of errors/part-*.parquet; the stream goes on. */
export interface ErrorRow {
  kind: 'error';
  path: string;
  /** The checkpoint's step, when it could be read. */
  step: number | null;
  error: string;
}

/** Any record of a pipeline stream. */
export type StreamRecord =
  | RunSpec
  | WeightSnapshot
  | Representation
  | MetricRow
  | RunRecord
  | NeuronRow
  | FieldRow
  | ErrorRow;
