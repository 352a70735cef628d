/**
 * Network and training configurations: defaults (docs/science.md §2, the authors' code) and validation.
 * Everything is checked here, before any training starts, with errors that name the field.
 */
import type { CheckpointSchedule, NetworkConfig, RunSpec, StopRule, TrainingConfig } from './types.js';
import { ConfigError, requireNumber, requireOneOf } from './errors.js';
import { resolveActivation, type Activation, type ActivationSpec } from './activations.js';

/** Network options as a user writes them: every field optional. */
export interface NetworkOptions {
  /** Default 'tanh'. See `resolveActivation` for the family. */
  activation?: ActivationSpec;
  /** Hidden width H, a positive integer. Default 128. */
  width?: number;
  /** 'frozen' (default, as in the paper) or 'trained'. */
  readout?: 'frozen' | 'trained';
  /** Initialisation gains, each > 0, default 1 (see `NetworkConfig.init`). */
  init?: Partial<NetworkConfig['init']>;
  /** Hidden layers of equal width, a positive integer. Default 1. */
  depth?: number;
}

/** Training options as a user writes them: every field optional. */
export interface TrainingOptions {
  /** SGD learning rate, > 0. Default 1e-3 (the paper's main sweep; 0.1 trains small tasks much faster). */
  lr?: number;
  /** Minibatch size, a positive integer ≤ samples. Default 64. */
  batch?: number;
  /** Number of epochs, a positive integer. Default 1000. */
  epochs?: number;
  /** Number of noisy training samples. Default 5000. */
  samples?: number;
  /** Default `{ logSpaced: 20 }`. */
  checkpoints?: CheckpointSchedule;
  /** 'sgd' (default) or 'adam'. */
  optimizer?: 'sgd' | 'adam';
  /** Early stop: `{ maxParamChange: x }`, x > 0 (the paper: 1e-5). Default none (every epoch is trained). */
  stop?: StopRule;
}

export const NETWORK_DEFAULTS: NetworkConfig = {
  activation: 'tanh',
  width: 128,
  readout: 'frozen',
  init: { weightScale: 1, readoutScale: 1, biasScale: 1 },
  depth: 1,
};

export const TRAINING_DEFAULTS: TrainingConfig = {
  lr: 1e-3,
  batch: 64,
  epochs: 1000,
  samples: 5000,
  checkpoints: { logSpaced: 20 },
  optimizer: 'sgd',
};

/** Adam's hyperparameters besides lr: PyTorch's defaults (no weight decay), on both engines. */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

const NETWORK_KEYS = ['activation', 'width', 'readout', 'init', 'depth'];
const TRAINING_KEYS = ['lr', 'batch', 'epochs', 'samples', 'checkpoints', 'optimizer', 'stop'];

function rejectUnknown(prefix: string, o: object, known: string[]): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key))
      throw new ConfigError(
        `${prefix}.${key}`,
        (o as Record<string, unknown>)[key],
        `only the options ${known.join(', ')}`,
      );
  }
}

/** Fill defaults into network options and validate them. */
export function networkConfig(o: NetworkOptions = {}): NetworkConfig {
  rejectUnknown('network', o, NETWORK_KEYS);
  const activation = o.activation ?? NETWORK_DEFAULTS.activation;
  resolveActivation(activation, 'network.activation');
  const width = requireNumber('network.width', o.width ?? NETWORK_DEFAULTS.width, { integer: true, min: 1 });
  const readout = requireOneOf('network.readout', o.readout ?? NETWORK_DEFAULTS.readout, ['frozen', 'trained']);
  const init = { ...NETWORK_DEFAULTS.init, ...(o.init ?? {}) };
  rejectUnknown('network.init', init, Object.keys(NETWORK_DEFAULTS.init));
  for (const [k, v] of Object.entries(init)) requireNumber(`network.init.${k}`, v, { min: 0, exclusiveMin: true });
  const depth = requireNumber('network.depth', o.depth ?? NETWORK_DEFAULTS.depth, { integer: true, min: 1, max: 100 });
  return { activation, width, readout, init, depth };
}

/** Fill defaults into training options and validate them. */
export function trainingConfig(o: TrainingOptions = {}): TrainingConfig {
  rejectUnknown('training', o, TRAINING_KEYS);
  const lr = requireNumber('training.lr', o.lr ?? TRAINING_DEFAULTS.lr, { min: 0, exclusiveMin: true });
  const samples = requireNumber('training.samples', o.samples ?? TRAINING_DEFAULTS.samples, { integer: true, min: 1 });
  const batch = requireNumber('training.batch', o.batch ?? TRAINING_DEFAULTS.batch, {
    integer: true,
    min: 1,
    max: samples,
  });
  const epochs = requireNumber('training.epochs', o.epochs ?? TRAINING_DEFAULTS.epochs, { integer: true, min: 1 });
  const checkpoints = o.checkpoints ?? TRAINING_DEFAULTS.checkpoints;
  validateSchedule(checkpoints);
  const optimizer = requireOneOf('training.optimizer', o.optimizer ?? TRAINING_DEFAULTS.optimizer, ['sgd', 'adam']);
  if (o.stop === undefined) return { lr, batch, epochs, samples, checkpoints, optimizer };
  if (!o.stop || typeof o.stop !== 'object')
    throw new ConfigError('training.stop', o.stop, '{ maxParamChange: x } with x > 0 (e.g. 1e-5)');
  rejectUnknown('training.stop', o.stop, ['maxParamChange']);
  const maxParamChange = requireNumber('training.stop.maxParamChange', o.stop.maxParamChange, {
    min: 0,
    exclusiveMin: true,
  });
  return { lr, batch, epochs, samples, checkpoints, optimizer, stop: { maxParamChange } };
}

function validateSchedule(s: CheckpointSchedule): void {
  const accepted = '{ steps: number[] } | { every: n } | { logSpaced: n }';
  if (!s || typeof s !== 'object') throw new ConfigError('training.checkpoints', s, accepted);
  if ('steps' in s) {
    if (!Array.isArray(s.steps))
      throw new ConfigError('training.checkpoints.steps', s.steps, 'an array of non-negative integers');
    s.steps.forEach((v, i) => {
      requireNumber(`training.checkpoints.steps[${i}]`, v, { integer: true, min: 0 });
    });
  } else if ('every' in s) requireNumber('training.checkpoints.every', s.every, { integer: true, min: 1 });
  else if ('logSpaced' in s) requireNumber('training.checkpoints.logSpaced', s.logSpaced, { integer: true, min: 1 });
  else throw new ConfigError('training.checkpoints', s, accepted);
}

/** Minibatch updates per epoch: ⌈samples / batch⌉ (the last batch of an epoch may be smaller). */
export function stepsPerEpoch(t: TrainingConfig): number {
  return Math.ceil(t.samples / t.batch);
}

/**
 * The checkpoint steps of a schedule for a run of `total` steps: sorted, unique, within [0, total],
 * always including 0 and total. `logSpaced: n` takes n steps geometrically spaced from 1 to total
 * (rounded, so fewer when they collide); `every: n` takes 0, n, 2n, …; explicit steps beyond total
 * are dropped.
 */
export function checkpointSteps(s: CheckpointSchedule, total: number): number[] {
  const out = new Set<number>([0, total]);
  if ('steps' in s)
    for (const v of s.steps) {
      if (v <= total) out.add(v);
    }
  else if ('every' in s) for (let v = 0; v <= total; v += s.every) out.add(v);
  else {
    const n = s.logSpaced;
    for (let i = 0; i < n; i++) out.add(Math.round(Math.exp((Math.log(total) * i) / Math.max(1, n - 1))));
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The activation of a run's network: from its configuration, or for an ingested run from what
 * the user said (`--activation`, `network.activation`). An ingested run without one cannot be
 * probed: a ConfigError says so.
 */
export function activationOf(run: RunSpec): Activation {
  const spec = run.network?.activation;
  if (spec == null) {
    throw new ConfigError(
      'network.activation',
      null,
      `an activation name for run ${run.run_id} (read from ${run.source_path}): needed to compute hidden activity from weights`,
    );
  }
  return resolveActivation(spec, 'network.activation');
}
