/**
 * Tasks from outside a pipeline file: a task JSON (a family and its parameters, as the source
 * functions take them), tensors written by `geomstream task`, or an external task — targets, and
 * perhaps inputs, of a model geomstream did not train (images, words: no input means to give).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Matrix, MatrixLike, Scalar, Task } from '../types.js';
import { ConfigError } from '../errors.js';
import { canonicalJson } from '../random.js';
import { toMatrix } from '../metrics/matrix.js';
import { alignedParity, type AlignedParityOptions } from './aligned-parity.js';
import { randomKernel } from './random-kernel.js';
import { separableXor } from './separable-xor.js';
import { unstructured } from './unstructured.js';
import { readSafetensors } from '../formats/safetensors.js';
import { readNpz } from '../formats/npz.js';
import type { Tensor } from '../formats/tensor.js';

/** Each family's source function and the parameters its JSON may hold (besides `family`). */
const FAMILIES: Record<string, { build: (o: never) => Task; keys: string[] }> = {
  'aligned-parity': {
    // `dirichlet: α` (as task.params records it) is the `inputs: { dirichlet: α }` variant.
    build: (({ dirichlet, ...o }: AlignedParityOptions & { dirichlet?: number }) =>
      alignedParity({ ...o, ...(dirichlet === undefined ? {} : { inputs: { dirichlet } }) })) as (o: never) => Task,
    keys: ['d', 'k', 'alignment', 'N', 'sigma', 'seed', 'dirichlet'],
  },
  'random-kernel': {
    build: randomKernel as (o: never) => Task,
    keys: ['P', 'k', 'alignment', 'rank', 'N', 'sigma', 'seed'],
  },
  'separable-xor': { build: separableXor as (o: never) => Task, keys: ['N', 'eps', 'sigma', 'seed'] },
  unstructured: { build: unstructured as (o: never) => Task, keys: ['P', 'N', 'sigma', 'targets', 'seed'] },
};
export const TASK_FILE_FAMILIES = Object.keys(FAMILIES);

/**
 * A task from its JSON form, e.g. `{ "family": "aligned-parity", "d": 3, "k": 3, "alignment": 0.33,
 * "N": 100, "sigma": 1, "seed": 0 }`: the family's source function called with the other fields
 * (which it validates). An unknown family or parameter is a ConfigError naming it.
 */
export function taskFromSpec(spec: unknown, field = 'task'): Task {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new ConfigError(
      field,
      spec,
      `an object { family, ...parameters } with family one of ${TASK_FILE_FAMILIES.map((f) => `'${f}'`).join(', ')}`,
    );
  }
  const { family, ...params } = spec as Record<string, unknown>;
  const fam = typeof family === 'string' ? FAMILIES[family] : undefined;
  if (!fam) throw new ConfigError(`${field}.family`, family, TASK_FILE_FAMILIES.map((f) => `'${f}'`).join(', '));
  for (const k of Object.keys(params)) {
    if (!fam.keys.includes(k))
      throw new ConfigError(`${field}.${k}`, params[k], `the parameters of '${family}': ${fam.keys.join(', ')}`);
  }
  return fam.build(params as never);
}

/** A short stable hash of numbers (FNV-1a over their float64 bytes), for external tasks' ids. */
function hashNumbers(...arrays: ArrayLike<number>[]): string {
  let h = 0x811c9dc5;
  const f = new Float64Array(1);
  const b = new Uint8Array(f.buffer);
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      f[0] = a[i];
      for (let j = 0; j < 8; j++) h = Math.imul(h ^ b[j], 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, '0');
}

export interface ExternalTaskOptions {
  /** Targets, P × K, 0/1 (a row per condition). */
  targets: MatrixLike;
  /** Input means, P × N, when the inputs are vectors; omitted for images, words, … (then N = 0). */
  inputs?: MatrixLike | null;
  /** Latent variables, P × d (0/1), when known. */
  latents?: MatrixLike | null;
  /** Recorded as the task's `seed` (seeds probe samples of ingested checkpoints). Default 0. */
  seed?: number;
}

/**
 * An external task: P conditions with given targets (and perhaps inputs and latents). It has no
 * sampler — noisy samples come with the activations — so `sample` throws. Metrics that need the
 * inputs (kernel alignment against 'input') are rejected before any work when N = 0.
 */
export function externalTask(o: ExternalTaskOptions): Task {
  const targets = toMatrix(o.targets);
  const P = targets.rows;
  for (let i = 0; i < targets.data.length; i++) {
    if (targets.data[i] !== 0 && targets.data[i] !== 1)
      throw new ConfigError(`targets[${Math.floor(i / targets.cols)}][${i % targets.cols}]`, targets.data[i], '0 or 1');
  }
  const inputs = o.inputs == null ? { rows: P, cols: 0, data: new Float64Array(0) } : toMatrix(o.inputs);
  if (inputs.rows !== P)
    throw new ConfigError('inputs', `${inputs.rows} rows`, `one row per condition: ${P} (the targets' rows)`);
  const latents = o.latents == null ? null : toMatrix(o.latents);
  if (latents && latents.rows !== P)
    throw new ConfigError('latents', `${latents.rows} rows`, `one row per condition: ${P}`);
  const seed = o.seed ?? 0;
  const params: Record<string, Scalar> = {
    P,
    K: targets.cols,
    N: inputs.cols,
    hash: hashNumbers(targets.data, inputs.data, latents?.data ?? []),
  };
  const noSampler = (): never => {
    throw new ConfigError(
      'task.sample',
      'external',
      'a task with a sampler (a family from a task file): an external task has no noise model; give noisy samples with the activations',
    );
  };
  return {
    id: `external${canonicalJson({ ...params, seed })}`,
    family: 'external',
    params,
    P,
    N: inputs.cols,
    K: targets.cols,
    sigma: null,
    means: inputs,
    targets,
    latents,
    seed,
    sample: noSampler,
    sampleBalanced: noSampler,
  };
}

const asMatrix = (t: Tensor, name: string, rows?: number): Matrix => {
  if (t.shape.length !== 2 || (rows !== undefined && t.shape[0] !== rows)) {
    throw new ConfigError(
      name,
      `shape [${t.shape.join(', ')}]`,
      rows === undefined ? 'a 2-d tensor' : `shape [${rows}, n]`,
    );
  }
  return { rows: t.shape[0], cols: t.shape[1], data: Float64Array.from(t.data) };
};

/**
 * Read a task file: `.json` (a task spec, see `taskFromSpec`), or `.safetensors` / `.npz` as written
 * by `geomstream task` (rebuilt from its task JSON: `__metadata__.task`, or the .npz's `task` array) or holding `targets`
 * [P, K] and optionally `means` [P, N] and `latents` [P, d] (an external task).
 */
export function readTaskFile(path: string, field = 'task'): Task {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ConfigError(field, path, `a readable task file (${(e as Error).message})`);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.json') {
    let spec: unknown;
    try {
      spec = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new ConfigError(field, path, `a JSON task file (${(e as Error).message})`);
    }
    return taskFromSpec(spec, field);
  }
  let tensors: Map<string, Tensor>;
  let metadata: Record<string, string> = {};
  if (ext === '.safetensors') ({ tensors, metadata } = readSafetensors(bytes));
  else if (ext === '.npz') tensors = readNpz(bytes);
  else throw new ConfigError(field, path, 'a .json, .safetensors or .npz task file');
  const embedded =
    metadata.task ??
    (tensors.get('task')?.dtype === 'U8'
      ? new TextDecoder().decode(Uint8Array.from(tensors.get('task')!.data))
      : undefined);
  if (embedded !== undefined) {
    let spec: unknown;
    try {
      spec = JSON.parse(embedded);
    } catch (e) {
      throw new ConfigError(
        `${field}.task`,
        embedded.slice(0, 80),
        `the task JSON written by geomstream task (${(e as Error).message})`,
      );
    }
    return taskFromSpec(spec, `${field} (${path})`);
  }
  const targets = tensors.get('targets');
  if (!targets)
    throw new ConfigError(
      `${field}.targets`,
      path,
      `a tensor 'targets' [P, K] in the file (it has ${[...tensors.keys()].join(', ') || 'none'})`,
    );
  const t = asMatrix(targets, 'targets');
  const means = tensors.get('means');
  const latents = tensors.get('latents');
  return externalTask({
    targets: t,
    inputs: means ? asMatrix(means, 'means', t.rows) : null,
    latents: latents ? asMatrix(latents, 'latents', t.rows) : null,
  });
}
