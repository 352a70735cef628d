/**
 * `geomstream task <task.json> --out <file.safetensors|file.npz>`: a task as tensors, so that a
 * PyTorch or JAX trainer trains on exactly the task geomstream analyses: `means` [P, N] (F64),
 * `targets` [P, K] (0/1, F32), `latents` [P, d] (F32, when the family has them), and a seeded
 * training set `x` [n, N] (F32) with its `conditions` [n] (I32), drawn as geomstream's own trainer
 * draws it. The task JSON, n and the sample seed are in `__metadata__` (safetensors); in a .npz
 * the task JSON is the uint8 array `task` (UTF-8).
 */
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError, requireNumber } from '../errors.js';
import { deriveSeed } from '../random.js';
import { readTaskFile } from '../sources/task-file.js';
import { writeSafetensors } from '../formats/safetensors.js';
import { writeNpz } from '../formats/npz.js';
import type { Tensor } from '../formats/tensor.js';
import { readFileSync } from 'node:fs';

/** Default number of training samples: the science default (docs/science.md §2). */
export const TASK_SAMPLES_DEFAULT = 5000;

/** The tensors (and metadata) of a task file. */
export function taskTensors(
  taskPath: string,
  samples = TASK_SAMPLES_DEFAULT,
  seed?: number,
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const task = readTaskFile(taskPath, 'task');
  if (task.family === 'external')
    throw new ConfigError(
      'task.family',
      'external',
      'a task family (a task JSON): an external task has no sampler to draw a training set from',
    );
  const n = requireNumber('samples', samples, { integer: true, min: 1 });
  const sampleSeed = seed ?? deriveSeed(task.seed, 'task-file-samples');
  const batch = task.sample(n, sampleSeed);
  const tensors: Record<string, Tensor> = {
    means: { dtype: 'F64', shape: [task.P, task.N], data: Float64Array.from(task.means.data) },
    targets: { dtype: 'F32', shape: [task.P, task.K], data: Float32Array.from(task.targets.data) },
    x: { dtype: 'F32', shape: [n, task.N], data: batch.x },
    conditions: { dtype: 'I32', shape: [n], data: batch.conditions },
  };
  if (task.latents)
    tensors.latents = { dtype: 'F32', shape: [task.P, task.latents.cols], data: Float32Array.from(task.latents.data) };
  const spec = JSON.parse(readFileSync(taskPath, 'utf8')) as unknown;
  return {
    tensors,
    metadata: { task: JSON.stringify(spec), task_id: task.id, samples: String(n), samples_seed: String(sampleSeed) },
  };
}

/** Write a task's tensors to `out` (.safetensors or .npz, by extension). */
export function taskCommand(taskPath: string, opts: { out?: string; samples?: number; seed?: number }): void {
  if (!opts.out) throw new ConfigError('out', undefined, 'a .safetensors or .npz file to write');
  const ext = extname(opts.out).toLowerCase();
  if (ext !== '.safetensors' && ext !== '.npz')
    throw new ConfigError('out', opts.out, 'a file name ending in .safetensors or .npz');
  if (extname(taskPath).toLowerCase() !== '.json')
    throw new ConfigError(
      'task',
      taskPath,
      'a task JSON file, e.g. { "family": "aligned-parity", "d": 3, "k": 3, "alignment": 0.33 }',
    );
  const { tensors, metadata } = taskTensors(taskPath, opts.samples, opts.seed);
  // .npz has no metadata: the task JSON goes in as a uint8 array named 'task' (readTaskFile reads it).
  const taskBytes = new TextEncoder().encode(metadata.task);
  const bytes =
    ext === '.npz'
      ? writeNpz({ ...tensors, task: { dtype: 'U8', shape: [taskBytes.length], data: Int32Array.from(taskBytes) } })
      : writeSafetensors(tensors, metadata);
  writeFileSync(opts.out, bytes);
  const shapes = Object.entries(tensors)
    .map(([k, t]) => `${k} [${t.shape.join(', ')}]`)
    .join(', ');
  process.stdout.write(`${opts.out}: ${shapes} (task ${metadata.task_id}; samples seed ${metadata.samples_seed})\n`);
}
