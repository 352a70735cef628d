/**
 * The ingestion workloads of `geomstream bench`: a folder of W1-shaped safetensors checkpoints
 * through `analyzeFiles` (against bench/reference/ingest_reference.py on the same files), and a
 * watched folder fed by renames (latency from rename to the row, and RSS over many checkpoints).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFiles } from '../analysis.js';
import { taskFromSpec } from '../sources/task-file.js';
import { writeSafetensors } from '../formats/safetensors.js';
import { Rng } from '../random.js';
import type { MetricRequest } from '../operators/geometry.js';
import type { Task } from '../types.js';
import { taskTensors } from '../cli/task.js';

export const INGEST_TASK = {
  family: 'aligned-parity',
  d: 3,
  k: 3,
  alignment: 0.33,
  N: 100,
  sigma: 1,
  seed: 0,
} as const;
export const INGEST_METRICS: MetricRequest[] = ['kernel_alignment', 'debiased_cka', 'rsa', 'ps', 'ccgp'];
const H = 128;

/** Checkpoint `i` of a seeded random walk of W1's weights, as safetensors bytes. */
function checkpointBytes(
  task: Task,
  rng: Rng,
  state: { W: Float32Array; b1: Float32Array; J: Float32Array; b2: Float32Array },
  step: number,
): Uint8Array {
  for (let j = 0; j < state.W.length; j++) state.W[j] += 0.01 * rng.normal();
  return writeSafetensors(
    {
      W: { dtype: 'F32', shape: [H, task.N], data: state.W },
      b1: { dtype: 'F32', shape: [H], data: state.b1 },
      J: { dtype: 'F32', shape: [task.K, H], data: state.J },
      b2: { dtype: 'F32', shape: [task.K], data: state.b2 },
    },
    { step: String(step) },
  );
}

function walk(task: Task) {
  const rng = new Rng(1);
  const state = {
    W: rng.fillNormal(new Float32Array(H * task.N), 1 / Math.sqrt(task.N)),
    b1: rng.fillNormal(new Float32Array(H), 0.1),
    J: rng.fillNormal(new Float32Array(task.K * H), 1 / Math.sqrt(H)),
    b2: new Float32Array(task.K),
  };
  return { rng, state };
}

/** Write the task (JSON and safetensors) and `files` checkpoints into `dir`; returns their paths. */
export function writeIngestProblem(dir: string, files: number): { task: Task; ckpts: string; taskFile: string } {
  const task = taskFromSpec(INGEST_TASK);
  const ckpts = join(dir, 'ckpts');
  mkdirSync(ckpts, { recursive: true });
  writeFileSync(join(dir, 'task.json'), JSON.stringify(INGEST_TASK));
  const { tensors, metadata } = taskTensors(join(dir, 'task.json'), 10);
  writeFileSync(join(dir, 'task.safetensors'), writeSafetensors(tensors, metadata));
  const { rng, state } = walk(task);
  for (let i = 0; i < files; i++)
    writeFileSync(
      join(ckpts, `ckpt-${String(i * 10).padStart(7, '0')}.safetensors`),
      checkpointBytes(task, rng, state, i * 10),
    );
  return { task, ckpts, taskFile: join(dir, 'task.safetensors') };
}

/** Seconds for analyzeFiles over the folder (probe, metric set, Parquet). */
export async function runIngest(
  problem: { task: Task; ckpts: string },
  out: string,
  workers: number,
): Promise<{ seconds: number; rows: number }> {
  const t0 = performance.now();
  const summary = await analyzeFiles({
    path: problem.ckpts,
    task: problem.task,
    activation: 'tanh',
    metrics: INGEST_METRICS,
    out,
    name: 'ingest',
    workers,
  });
  return { seconds: (performance.now() - t0) / 1000, rows: summary.metricRows };
}

/**
 * Watch a folder while `files` checkpoints are renamed into it every `interval` ms: latency from
 * each rename to its first metric row reaching the sink (median, p95), and RSS sampled every
 * tenth of the run (first, max, last).
 */
export async function runIngestWatch(
  dir: string,
  files: number,
  interval: number,
): Promise<{ medianMs: number; p95Ms: number; rssMB: number[] }> {
  const task = taskFromSpec(INGEST_TASK);
  const folder = join(dir, 'watched');
  mkdirSync(folder, { recursive: true });
  const renamed = new Map<number, number>();
  const latency: number[] = [];
  const rss: number[] = [];
  const controller = new AbortController();
  const { rng, state } = walk(task);
  let written = 0;
  const writer = setInterval(() => {
    if (written >= files) {
      clearInterval(writer);
      return;
    }
    const step = written * 10;
    const tmp = join(folder, `.ckpt-${step}.tmp`);
    writeFileSync(tmp, checkpointBytes(task, rng, state, step));
    renameSync(tmp, join(folder, `ckpt-${String(step).padStart(8, '0')}.safetensors`));
    renamed.set(step, performance.now());
    written++;
    if (written % Math.max(1, Math.floor(files / 10)) === 0) rss.push(process.memoryUsage().rss / 2 ** 20);
  }, interval);
  await analyzeFiles({
    path: folder,
    task,
    activation: 'tanh',
    metrics: ['kernel_alignment', 'ps'],
    watch: true,
    idleExit: 2,
    poll: 20,
    out: join(dir, 'out'),
    name: 'watch',
    signal: controller.signal,
    onRecord: (r) => {
      if (r.kind !== 'metric' || !renamed.has(r.step)) return;
      latency.push(performance.now() - renamed.get(r.step)!);
      renamed.delete(r.step);
    },
  });
  clearInterval(writer);
  const sorted = latency.sort((a, b) => a - b);
  return {
    medianMs: sorted[Math.floor(sorted.length / 2)],
    p95Ms: sorted[Math.floor(sorted.length * 0.95)],
    rssMB: rss,
  };
}
