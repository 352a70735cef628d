/**
 * What identifies the work of a pipeline, for resuming a dataset (sinks/dataset.ts): a hash of each
 * ensemble's runs — everything that decides their numbers: seeds, task (its parameters and its
 * means and targets, so a hand-made task counts too), network, training, sweep coordinates — and a
 * hash of the pipeline's `process` function's source text.
 */
import { createHash } from 'node:crypto';
import type { Matrix, TrainedRunSpec as RunSpec } from './types.js';
import { canonicalJson } from './random.js';

const sha256 = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex');

function matrixHash(m: Matrix | null): string | null {
  if (!m) return null;
  const data = m.data instanceof Float64Array ? m.data : Float64Array.from(m.data as ArrayLike<number>);
  return `${m.rows}x${m.cols}:${sha256(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))}`;
}

/** The configuration of a run that decides its numbers, as plain JSON-able values. */
function runIdentity(r: RunSpec): unknown {
  const t = r.task;
  return {
    run_id: r.run_id,
    seed: r.seed,
    data_seed: r.data_seed,
    coords: r.coords,
    network: r.network,
    training: r.training,
    task: {
      id: t.id,
      family: t.family,
      params: t.params,
      P: t.P,
      N: t.N,
      K: t.K,
      sigma: t.sigma,
      seed: t.seed,
      means: matrixHash(t.means),
      targets: matrixHash(t.targets),
      latents: matrixHash(t.latents),
    },
  };
}

/** Each ensemble's hash (SHA-256 of its runs' canonical JSON), in the order the ensembles first appear. */
export function ensembleHashes(runs: RunSpec[]): Map<string, string> {
  const members = new Map<string, unknown[]>();
  for (const r of runs) {
    const list = members.get(r.ensemble_id) ?? [];
    list.push(runIdentity(r));
    members.set(r.ensemble_id, list);
  }
  return new Map([...members].map(([id, list]) => [id, sha256(canonicalJson(list))]));
}

/**
 * A hash of what a pipeline does to its runs: the source text of its `process` function. (Values
 * it captures from outside are not seen: a pipeline whose operators change that way needs
 * `--if-exists overwrite`.)
 */
export function processHash(pipeline: { process: (...args: never[]) => unknown }): string {
  return sha256(pipeline.process.toString()).slice(0, 16);
}
