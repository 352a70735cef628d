/**
 * Arrow tables for the records geomstream writes: their column names and types are the output
 * contract (README, "Output schema"). Strings are Utf8 (dictionary-encoded by the Parquet writer),
 * steps and counts Int32, numbers Float64.
 */
import {
  Bool,
  Float32,
  Float64,
  Int32,
  List,
  Field,
  Table,
  Utf8,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import type { ErrorRow, FieldRow, MetricRow, NeuronRow, RunRecord, Scalar, WeightSnapshot } from '../types.js';
import { resolveActivation } from '../activations.js';
import { canonicalJson } from '../random.js';

/** Column order and types of the metrics table (a change here is a new SCHEMA_VERSION; 2 added `fits_converged` here and `max_param_change`, `converged` to runs; 3 the null columns). */
export const METRIC_COLUMNS = {
  run_id: new Utf8(),
  ensemble_id: new Utf8(),
  scope: new Utf8(),
  step: new Int32(),
  epoch: new Float64(),
  loss: new Float64(),
  layer: new Int32(),
  metric: new Utf8(),
  against: new Utf8(),
  dichotomy: new Utf8(),
  classifier: new Utf8(),
  value: new Float64(),
  fits_converged: new Bool(),
  null_model: new Utf8(),
  null_samples: new Int32(),
  null_mean: new Float64(),
  null_sd: new Float64(),
  p_value: new Float64(),
} satisfies Record<Exclude<keyof MetricRow, 'kind'>, DataType>;

function column(values: Scalar[], type: DataType): Vector {
  return vectorFromArray(values as never[], type as never) as Vector;
}

/** A metrics table (long format) from metric rows. */
export function metricsTable(rows: MetricRow[]): Table {
  return tableOf(rows, METRIC_COLUMNS);
}

/** Column order and types of the neurons table (weight-space dynamics). */
export const NEURON_COLUMNS = {
  run_id: new Utf8(),
  step: new Int32(),
  epoch: new Float64(),
  layer: new Int32(),
  neuron: new Int32(),
  inter: new Float64(),
  intra: new Float64(),
  intra_1: new Float64(),
  intra_2: new Float64(),
  norm: new Float64(),
  active_conditions: new List(new Field('item', new Int32(), true)),
  n_active: new Int32(),
} satisfies Record<Exclude<keyof NeuronRow, 'kind'>, DataType>;

/** Column order and types of the expected-gradient field table. */
export const FIELD_COLUMNS = {
  run_id: new Utf8(),
  step: new Int32(),
  neuron: new Int32(),
  inter: new Float64(),
  intra_1: new Float64(),
  d_inter: new Float64(),
  d_intra_1: new Float64(),
} satisfies Record<Exclude<keyof FieldRow, 'kind'>, DataType>;

function tableOf<R>(rows: R[], columns: Record<string, DataType>): Table {
  const cols: Record<string, Vector> = {};
  for (const [name, type] of Object.entries(columns))
    cols[name] = column(
      rows.map((r) => (r as Record<string, Scalar>)[name]),
      type,
    );
  return new Table(cols);
}

/** Column order and types of the errors table (files an ingestion source could not use). */
export const ERROR_COLUMNS = {
  path: new Utf8(),
  step: new Int32(),
  error: new Utf8(),
} satisfies Record<keyof Omit<ErrorRow, 'kind'>, DataType>;

/** An errors table from error rows. */
export function errorsTable(rows: ErrorRow[]): Table {
  return tableOf(rows, ERROR_COLUMNS);
}

/** A neurons table from neuron rows. */
export function neuronsTable(rows: NeuronRow[]): Table {
  return tableOf(rows, NEURON_COLUMNS);
}

/** A field table from field rows. */
export function fieldTable(rows: FieldRow[]): Table {
  return tableOf(rows, FIELD_COLUMNS);
}

/** Infer an Arrow type for a column of scalars: Int32, Float64, Bool or Utf8 (mixed → Utf8). */
function inferType(values: Scalar[]): DataType {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length && present.every((v) => typeof v === 'boolean')) return new Bool();
  if (present.every((v) => typeof v === 'number')) {
    return present.length && present.every((v) => Number.isInteger(v) && Math.abs(v as number) < 2 ** 31)
      ? new Int32()
      : new Float64();
  }
  return new Utf8();
}

/**
 * One row of runs.parquet as plain values (every configuration column, then the outcome). Runs
 * that geomstream did not train (`source` 'checkpoints' or 'activations') have null seeds and
 * training columns: nothing about their training is known, so nothing is written.
 */
export function runRow(rec: RunRecord, pipeline: string): Record<string, Scalar> {
  const { run } = rec;
  const trained = run.source === 'trained' ? run : null;
  const net = run.network;
  const act = net?.activation != null ? resolveActivation(net.activation) : null;
  const row: Record<string, Scalar> = {
    run_id: run.run_id,
    ensemble_id: run.ensemble_id,
    pipeline,
    source: run.source,
    source_path: run.source_path,
    seed: run.seed,
    data_seed: run.data_seed,
    task_seed: run.task.seed,
    task_family: run.task.family,
    task_id: run.task.id,
    P: run.task.P,
    N: run.task.N,
    // Not 'K': DuckDB and pandas users address columns case-insensitively, and 'k' is a task parameter.
    outputs: run.task.K,
  };
  for (const [k, v] of Object.entries(run.task.params)) if (!(k in row)) row[k] = v;
  const init = trained?.network.init;
  const training = trained?.training;
  Object.assign(row, {
    activation: act?.label ?? null,
    activation_name: act?.name ?? null,
    activation_params: act ? canonicalJson(act.params) : null,
    width: net?.width ?? null,
    depth: net?.depth ?? null,
    readout: trained?.network.readout ?? null,
    init_weight_scale: init?.weightScale ?? null,
    init_readout_scale: init?.readoutScale ?? null,
    init_bias_scale: init?.biasScale ?? null,
    optimizer: training?.optimizer ?? null,
    lr: training?.lr ?? null,
    batch: training?.batch ?? null,
    epochs: training?.epochs ?? null,
    samples: training?.samples ?? null,
    checkpoints: training ? canonicalJson(training.checkpoints) : null,
    stop_max_param_change: training?.stop?.maxParamChange ?? null,
  });
  for (const [k, v] of Object.entries(run.coords)) if (!(k in row)) row[k] = v;
  Object.assign(row, {
    backend: rec.backend,
    engine: rec.engine,
    status: rec.status,
    diverged_step: rec.diverged_step,
    error: rec.error,
    steps: rec.steps,
    final_loss: rec.final_loss,
    final_accuracy: rec.final_accuracy,
    max_param_change: rec.max_param_change,
    converged: rec.converged,
    stop_epoch: rec.stop_epoch,
    wall_time_s: rec.wall_time_s,
  });
  return row;
}

/** Column types that must not be inferred (a column of all-null or all-integer values would be mistyped). */
const RUN_TYPES: Record<string, DataType> = {
  diverged_step: new Int32(),
  error: new Utf8(),
  steps: new Int32(),
  final_loss: new Float64(),
  final_accuracy: new Float64(),
  max_param_change: new Float64(),
  converged: new Bool(),
  stop_epoch: new Int32(),
  stop_max_param_change: new Float64(),
  wall_time_s: new Float64(),
  engine: new Utf8(),
  backend: new Utf8(),
  lr: new Float64(),
  sigma: new Float64(),
  alignment: new Float64(),
  eps: new Float64(),
  init_weight_scale: new Float64(),
  init_readout_scale: new Float64(),
  init_bias_scale: new Float64(),
  seed: new Int32(),
  data_seed: new Int32(),
  task_seed: new Int32(),
  source: new Utf8(),
  source_path: new Utf8(),
  activation: new Utf8(),
  activation_name: new Utf8(),
  activation_params: new Utf8(),
  width: new Int32(),
  depth: new Int32(),
  readout: new Utf8(),
  optimizer: new Utf8(),
  batch: new Int32(),
  epochs: new Int32(),
  samples: new Int32(),
  checkpoints: new Utf8(),
};

/** The runs table: one row per run, columns in first-seen order. */
export function runsTable(records: RunRecord[], pipeline: string): Table {
  return runsTableOf(records.map((r) => runRow(r, pipeline)));
}

/** The runs table of rows made by `runRow` (and read back from an earlier runs.parquet, when a dataset is resumed). */
export function runsTableOf(rows: Array<Record<string, Scalar>>): Table {
  const names: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
  const cols: Record<string, Vector> = {};
  for (const name of names) {
    const values = rows.map((r) => (name in r ? r[name] : null));
    cols[name] = column(values, RUN_TYPES[name] ?? inferType(values));
  }
  return new Table(cols);
}

/**
 * Weight snapshots as an Arrow table: run_id, step, epoch, loss, accuracy, the shape columns
 * N, H, K, and each tensor as list<float32> (row-major; W is H × N, J is K × H); hidden layers
 * 2..depth as `layers_W`, `layers_b` (list<list<float32>>, one entry per layer; empty for depth 1).
 */
export function snapshotsTable(snaps: WeightSnapshot[]): Table {
  const list = () => new List(new Field('item', new Float32(), false));
  const tensor = (key: 'W' | 'b1' | 'J' | 'b2') =>
    column(
      snaps.map((s) => Array.from(s.params[key]) as never),
      list(),
    );
  return new Table({
    run_id: column(
      snaps.map((s) => s.run_id),
      new Utf8(),
    ),
    step: column(
      snaps.map((s) => s.step),
      new Int32(),
    ),
    epoch: column(
      snaps.map((s) => s.epoch),
      new Float64(),
    ),
    loss: column(
      snaps.map((s) => s.loss),
      new Float64(),
    ),
    accuracy: column(
      snaps.map((s) => s.accuracy),
      new Float64(),
    ),
    N: column(
      snaps.map((s) => s.params.N),
      new Int32(),
    ),
    H: column(
      snaps.map((s) => s.params.H),
      new Int32(),
    ),
    K: column(
      snaps.map((s) => s.params.K),
      new Int32(),
    ),
    W: tensor('W'),
    b1: tensor('b1'),
    J: tensor('J'),
    b2: tensor('b2'),
    layers_W: column(
      snaps.map((s) => (s.params.layers ?? []).map((l) => Array.from(l.W)) as never),
      new List(new Field('layer', list(), false)),
    ),
    layers_b: column(
      snaps.map((s) => (s.params.layers ?? []).map((l) => Array.from(l.b)) as never),
      new List(new Field('layer', list(), false)),
    ),
  });
}
