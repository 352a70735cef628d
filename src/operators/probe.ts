/**
 * `probe()`: WeightSnapshot → WeightSnapshot, Representation. Computes the hidden activity for every condition's
 * noise-free mean (P × H) and, when asked, for noisy samples of every condition, in float64.
 */
import type { OperatorFunction } from 'rxjs';
import type { Representation, StreamRecord, Task, WeightSnapshot } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { activationOf } from '../config.js';
import { depthOf, hiddenActivity } from '../engine/forward.js';
import { deriveSeed } from '../random.js';
import { mapKind } from './records.js';

export interface ProbeOptions {
  /**
   * Noisy samples per condition to probe as well (default 0: condition means only). The same
   * samples are used at every checkpoint of a run: they come from the seed
   * deriveSeed(run.data_seed, 'probe'), so trajectories are not jittered by resampling.
   */
  samplesPerCondition?: number;
  /**
   * Which hidden layer: a layer number (1 = the first), 'last' (default) or 'all' (one
   * Representation per layer). A layer beyond a network's depth is an error at the run's first
   * snapshot (step 0), before it trains.
   */
  layer?: number | 'last' | 'all';
}

function checkLayer(v: unknown): void {
  if (v === 'last' || v === 'all') return;
  requireNumber('layer', v, { integer: true, min: 1 });
}

/**
 * The probe's noisy samples of a run: the same at every checkpoint (seeded by the run's data seed),
 * so the last few runs' batches are kept rather than drawn again at each checkpoint.
 */
const batches = new Map<string, ReturnType<Task['sampleBalanced']>>();
function probeBatch(task: Task, perCondition: number, dataSeed: number): ReturnType<Task['sampleBalanced']> {
  const key = `${task.id}\u0000${perCondition}\u0000${dataSeed}`;
  let batch = batches.get(key);
  if (!batch) {
    batch = task.sampleBalanced(perCondition, deriveSeed(dataSeed, 'probe'));
    batches.set(key, batch);
    // Keep at most 64 (Map iterates in insertion order: the oldest goes first).
    if (batches.size > 64) batches.delete(batches.keys().next().value!);
  }
  return batch;
}

/** The representation of one snapshot at one hidden layer (default: the last; exported for direct use and tests). */
export function representationOf(
  s: WeightSnapshot,
  options: Omit<ProbeOptions, 'layer'> & { layer?: number | 'last' } = {},
): Representation {
  const perCondition = requireNumber('samplesPerCondition', options.samplesPerCondition ?? 0, {
    integer: true,
    min: 0,
  });
  const depth = depthOf(s.params);
  const layer = options.layer === undefined || options.layer === 'last' ? depth : options.layer;
  if (layer > depth)
    throw new ConfigError('layer', layer, `a hidden layer from 1 to the network's depth, ${depth} (run ${s.run_id})`);
  const act = activationOf(s.run);
  const task = s.run.task;
  const means = hiddenActivity(s.params, act, task.means, layer);
  let samples: Representation['samples'] = null;
  if (perCondition > 0) {
    // Ingested runs have no data seed: their probe samples come from the task's own seed.
    const batch = probeBatch(task, perCondition, s.run.data_seed ?? task.seed);
    const activity = hiddenActivity(s.params, act, { rows: batch.n, cols: task.N, data: batch.x }, layer);
    samples = { activity, conditions: batch.conditions };
  }
  return {
    kind: 'representation',
    run_id: s.run_id,
    ensemble_id: s.ensemble_id,
    step: s.step,
    epoch: s.epoch,
    loss: s.loss,
    accuracy: s.accuracy,
    layer,
    means,
    samples,
    run: s.run,
    ensemble_size: s.ensemble_size,
    final: s.final,
    ...(s.source_file === undefined ? {} : { source_file: s.source_file }),
  };
}

/**
 * Emit each `WeightSnapshot`'s `Representation` right after it. The snapshot itself passes on too,
 * so later operators (weight-space analysis) and the snapshots sink still see it; sinks that do
 * not want snapshots ignore them. Other records pass through.
 */
export function probe(options: ProbeOptions = {}): OperatorFunction<StreamRecord, StreamRecord> {
  requireNumber('samplesPerCondition', options.samplesPerCondition ?? 0, { integer: true, min: 0 });
  checkLayer(options.layer ?? 'last');
  return mapKind('snapshot', (s) => {
    if (options.layer !== 'all') return [s, representationOf(s, { ...options, layer: options.layer })];
    const layers = Array.from({ length: depthOf(s.params) }, (_, l) => l + 1);
    return [s, ...layers.map((layer) => representationOf(s, { ...options, layer }))];
  });
}
