/**
 * Weight snapshots as one safetensors file per ensemble and checkpoint
 * (`snapshots/<ensemble_id>/step-<step>.safetensors`): the format `geomstream analyze` and
 * `fromCheckpoints` read, so a run can be analysed again later or elsewhere. Each file stacks the
 * ensemble's networks on a leading dimension (W [S, H, N], b1 [S, H], J [S, K, H], b2 [S, K],
 * W_l / b_l for deeper layers, all F32); `__metadata__` holds the step, the run ids (JSON), the
 * ensemble id, the epoch, the activation label, the task id and the data seed (so that probe
 * samples drawn from the snapshots are the original run's).
 */
import { join } from 'node:path';
import type { WeightSnapshot } from '../types.js';
import { writeSafetensors } from '../formats/safetensors.js';
import type { Tensor } from '../formats/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { activationOf } from '../config.js';
import { ensembleFolder } from './dataset.js';

const stack = (parts: Float32Array[], shape: number[]): Tensor => {
  const data = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { dtype: 'F32', shape: [parts.length, ...shape], data };
};

/** The file of one ensemble's snapshots at one step: its path under `snapshots/` and its bytes. */
export function snapshotFile(members: WeightSnapshot[]): { path: string; bytes: Uint8Array } {
  const first = members[0];
  const { N, H, K } = first.params;
  const tensors: Record<string, Tensor> = {
    W: stack(
      members.map((m) => m.params.W),
      [H, N],
    ),
    b1: stack(
      members.map((m) => m.params.b1),
      [H],
    ),
    J: stack(
      members.map((m) => m.params.J),
      [K, H],
    ),
    b2: stack(
      members.map((m) => m.params.b2),
      [K],
    ),
  };
  (first.params.layers ?? []).forEach((_l, i) => {
    tensors[`W_${i + 2}`] = stack(
      members.map((m) => m.params.layers![i].W),
      [H, H],
    );
    tensors[`b_${i + 2}`] = stack(
      members.map((m) => m.params.layers![i].b),
      [H],
    );
  });
  const metadata: Record<string, string> = {
    step: String(first.step),
    run_ids: JSON.stringify(members.map((m) => m.run_id)),
    ensemble_id: first.ensemble_id,
    epoch: String(first.epoch),
    activation: activationOf(first.run).label,
    task_id: first.run.task.id,
    ...(first.run.data_seed === null ? {} : { data_seed: String(first.run.data_seed) }),
  };
  return {
    path: join(ensembleFolder(first.ensemble_id), `step-${String(first.step).padStart(8, '0')}.safetensors`),
    bytes: writeSafetensors(tensors, metadata),
  };
}

/** Collects each ensemble's snapshots of a step and writes them as one file when all have arrived. */
export class SnapshotFiles {
  private readonly pending = new Map<string, WeightSnapshot[]>();

  constructor(
    private readonly dir: string,
    private readonly folder = 'snapshots',
  ) {}

  /** Add a snapshot; resolves with the file written (relative to the results folder) once its ensemble's step is complete, else null. */
  async add(s: WeightSnapshot): Promise<string | null> {
    const key = `${s.ensemble_id}\u0000${s.step}`;
    const group = this.pending.get(key) ?? [];
    group.push(s);
    if (group.length < s.ensemble_size) {
      this.pending.set(key, group);
      return null;
    }
    this.pending.delete(key);
    const { path, bytes } = snapshotFile(group);
    const rel = join(this.folder, path);
    await writeFileAtomic(join(this.dir, rel), bytes);
    return rel;
  }
}
