/**
 * The runs of an ingestion source: one `IngestedRunSpec` per run id, created at its first record,
 * and at the end of the stream one `RunRecord` each (status 'completed', no training fields).
 */
import type { ErrorRow, IngestedRunSpec, RunRecord } from '../types.js';

/** The error row of a file (or batch) a source could not use. */
export function errorRow(path: string, step: number | null, e: unknown): ErrorRow {
  return { kind: 'error', path, step, error: e instanceof Error ? e.message : String(e) };
}

export class IngestedRuns {
  private readonly runs = new Map<string, { spec: IngestedRunSpec; last: number }>();
  private readonly started = performance.now();

  /** The run `id`, made by `make` the first time it is seen; records `step` as reached. */
  at(id: string, step: number, make: () => IngestedRunSpec): IngestedRunSpec {
    let run = this.runs.get(id);
    if (!run) this.runs.set(id, (run = { spec: make(), last: step }));
    run.last = Math.max(run.last, step);
    return run.spec;
  }

  /** The last step read of a run. */
  last(id: string): number | undefined {
    return this.runs.get(id)?.last;
  }

  /** One RunRecord per run: completed, with its last step; wall time since the source started. */
  records(): RunRecord[] {
    const wall = (performance.now() - this.started) / 1000;
    return [...this.runs.values()].map(({ spec, last }) => ({
      kind: 'run',
      run: spec,
      status: 'completed',
      diverged_step: null,
      error: null,
      steps: last,
      final_loss: null,
      final_accuracy: null,
      max_param_change: null,
      stop_epoch: null,
      converged: null,
      backend: null,
      engine: null,
      wall_time_s: wall,
    }));
  }
}
