/**
 * `weightDynamics()`: WeightSnapshot → WeightSnapshot, NeuronRow… (and FieldRow… when asked).
 * Per checkpoint and hidden neuron: the projections of its input weights on its inter-class axis
 * and on the intra-class subspace, its weight norm and its active set (docs/science.md §4); and, for
 * chosen runs, steps and neurons, the expected-gradient field on its (inter, intra_1) plane.
 */
import type { OperatorFunction } from 'rxjs';
import type { FieldRow, NeuronRow, StreamRecord, WeightSnapshot } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { activationOf } from '../config.js';
import { neuronAxes, projectNeuron, readoutError, expectedGradientField, smoothing } from '../metrics/weight-space.js';
import { mapKind } from './records.js';

export interface FieldOptions {
  /** Runs to compute the field for: 'first-replicate' (default: replicate 0 of each ensemble), 'all', or run ids. */
  runs?: 'first-replicate' | 'all' | string[];
  /** Checkpoint: 'first' (step 0, default: the early-training regime the field describes), 'final', or 'all'. */
  steps?: 'first' | 'final' | 'all';
  /** Neurons (default [0, 1, 2, 3]). */
  neurons?: number[];
  /** Grid points per axis (default 21). */
  size?: number;
  /** Half-width of the grid on both axes (default: 1.5 × the largest |inter|, |intra| of the neuron at that step, at least 0.5). */
  extent?: number;
}

export interface WeightDynamicsOptions {
  /** Pre-activation threshold for a condition to count as driving the neuron (default 0). */
  threshold?: number;
  /** Also emit the expected-gradient field (default: no field). */
  field?: FieldOptions;
}

function checkField(f: FieldOptions): void {
  if (
    f.runs !== undefined &&
    f.runs !== 'first-replicate' &&
    f.runs !== 'all' &&
    !(Array.isArray(f.runs) && f.runs.every((r) => typeof r === 'string'))
  ) {
    throw new ConfigError('field.runs', f.runs, "'first-replicate', 'all' or an array of run ids");
  }
  if (f.steps !== undefined && !['first', 'final', 'all'].includes(f.steps))
    throw new ConfigError('field.steps', f.steps, "'first', 'final', 'all'");
  (f.neurons ?? []).forEach((n, i) => {
    requireNumber(`field.neurons[${i}]`, n, { integer: true, min: 0 });
  });
  if (f.size !== undefined) requireNumber('field.size', f.size, { integer: true, min: 2, max: 201 });
  if (f.extent !== undefined) requireNumber('field.extent', f.extent, { min: 0, exclusiveMin: true });
}

/** Neuron i of a snapshot: its readout column J_i, its axes and where its input weights lie. */
function neuronGeometry(s: WeightSnapshot, i: number, threshold = 0) {
  const { N, H, K, W, b1, J, layers } = s.params;
  // The axes pair a neuron's input weights with its own readout column: one hidden layer only.
  if (layers?.length) {
    throw new ConfigError(
      'weightDynamics',
      `run ${s.run_id} of depth ${layers.length + 1}`,
      'networks with one hidden layer (the inter/intra-class axes use the readout of the layer whose input weights are analysed)',
    );
  }
  const task = s.run.task;
  const Ji = Float64Array.from({ length: K }, (_, k) => J[k * H + i]);
  const axes = neuronAxes(task.means, task.targets, Ji);
  return { Ji, axes, pr: projectNeuron(W.subarray(i * N, (i + 1) * N), b1[i], axes, task.means, threshold) };
}

/** The neuron rows of one snapshot (exported for direct use and tests). */
export function neuronRows(s: WeightSnapshot, threshold = 0): NeuronRow[] {
  const rows: NeuronRow[] = [];
  for (let i = 0; i < s.params.H; i++) {
    const { pr } = neuronGeometry(s, i, threshold);
    const two = pr.intraComponents.length <= 2;
    rows.push({
      kind: 'neuron',
      run_id: s.run_id,
      step: s.step,
      epoch: s.epoch,
      layer: 1,
      neuron: i,
      inter: pr.inter,
      intra: pr.intra,
      intra_1: two ? (pr.intraComponents[0] ?? null) : null,
      intra_2: two ? (pr.intraComponents[1] ?? null) : null,
      norm: pr.norm,
      active_conditions: pr.activeConditions,
      n_active: pr.activeConditions.length,
    });
  }
  return rows;
}

/** The expected-gradient field rows of chosen neurons of one snapshot. */
export function fieldRows(s: WeightSnapshot, f: FieldOptions = {}): FieldRow[] {
  const { H, b1 } = s.params;
  const task = s.run.task;
  if (task.sigma === null)
    throw new ConfigError(
      'field',
      `run ${s.run_id} (task ${task.id})`,
      'a task with a noise scale sigma: the field smooths the activation by the input noise',
    );
  const act = activationOf(s.run);
  const sm = smoothing(act.f, act.df, { relu: act.name === 'relu' });
  const size = f.size ?? 21;
  const out: FieldRow[] = [];
  for (const i of f.neurons ?? [0, 1, 2, 3]) {
    if (i >= H) throw new ConfigError('field.neurons', i, `neuron indices below the width, ${H}`);
    const { Ji, axes, pr } = neuronGeometry(s, i);
    const extent = f.extent ?? Math.max(0.5, 1.5 * Math.max(Math.abs(pr.inter), Math.abs(pr.intraComponents[0] ?? 0)));
    const ticks = Array.from({ length: size }, (_, t) => -extent + (2 * extent * t) / (size - 1));
    const e = readoutError(Ji, task.targets);
    for (const pt of expectedGradientField(axes, b1[i], e, task.means, task.sigma, sm, {
      inter: ticks,
      intra: ticks,
    })) {
      out.push({
        kind: 'field',
        run_id: s.run_id,
        step: s.step,
        neuron: i,
        inter: pt.inter,
        intra_1: pt.intra,
        d_inter: pt.dInter,
        d_intra_1: pt.dIntra,
      });
    }
  }
  return out;
}

/**
 * Emit, after each `WeightSnapshot`, its neuron rows (and field rows where `field` selects the
 * snapshot). Snapshots and other records pass through.
 */
export function weightDynamics(options: WeightDynamicsOptions = {}): OperatorFunction<StreamRecord, StreamRecord> {
  const threshold = requireNumber('threshold', options.threshold ?? 0);
  const f = options.field;
  if (f) checkField(f);
  const wantField = (s: WeightSnapshot) => {
    if (!f) return false;
    const runs = f.runs ?? 'first-replicate';
    const runOk =
      runs === 'all'
        ? true
        : runs === 'first-replicate'
          ? s.run.coords.replicate === 0 || s.run.coords.replicate === undefined
          : runs.includes(s.run_id);
    const steps = f.steps ?? 'first';
    const stepOk = steps === 'all' || (steps === 'first' ? s.step === 0 : s.final);
    return runOk && stepOk;
  };
  return mapKind('snapshot', (s) => [s, ...neuronRows(s, threshold), ...(wantField(s) ? fieldRows(s, f) : [])]);
}
