/**
 * The sweep-grid source: the cartesian product of named parameter lists, each point trained with
 * several seeds. Seeds depend only on the pipeline seed and the point's coordinates, so a run's
 * numbers do not change when the grid grows or is sharded.
 */
import { defer, from, type Observable } from 'rxjs';
import type { TrainedRunSpec as RunSpec, Scalar, Task } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { deriveSeed } from '../random.js';
import { networkConfig, trainingConfig, type NetworkOptions, type TrainingOptions } from '../config.js';

/** What a sweep needs to know for one grid point. */
export interface SweepPoint {
  task: Task;
  network?: NetworkOptions;
  training?: TrainingOptions;
}

/** The seeds a sweep derives for a grid point, handed to `run` so tasks can be seeded from them. */
export interface PointSeeds {
  /** Seed for the task's own random choices (embedding, patterns). */
  task: number;
  /** Seed for the training samples and minibatch order (shared by the point's ensemble). */
  data: number;
}

export interface SweepOptions<G extends Record<string, readonly Scalar[]>> {
  /** Named parameter lists; the sweep visits their cartesian product, last name varying fastest. */
  grid: G;
  /** Networks per grid point (replicates 0..n−1), or an explicit list of replicate indices. Default 1. */
  seeds?: number | number[];
  /** Base seed of the whole sweep (recorded in the manifest). Default 0. */
  seed?: number;
  /** Build the task and configurations of a grid point. */
  run: (point: { [K in keyof G]: G[K][number] }, seeds: PointSeeds) => SweepPoint;
}

/** Every combination of the grid's lists, in order (last key fastest). */
export function gridPoints<G extends Record<string, readonly Scalar[]>>(
  grid: G,
): Array<{ [K in keyof G]: G[K][number] }> {
  const keys = Object.keys(grid);
  for (const k of keys) {
    if (!Array.isArray(grid[k]) || grid[k].length === 0)
      throw new ConfigError(`grid.${k}`, grid[k], 'a non-empty array of values');
  }
  let points: Record<string, Scalar>[] = [{}];
  for (const k of keys) points = points.flatMap((p) => grid[k].map((v) => ({ ...p, [k]: v })));
  return points as Array<{ [K in keyof G]: G[K][number] }>;
}

function coordText(point: Record<string, Scalar>): string {
  return Object.entries(point)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/**
 * Build (and validate) every run of a sweep. All configurations are checked here, before any run
 * is emitted, so a bad value anywhere in the grid stops the sweep before training starts.
 */
export function sweepRuns<G extends Record<string, readonly Scalar[]>>(o: SweepOptions<G>): RunSpec[] {
  const base = requireNumber('seed', o.seed ?? 0, { integer: true, min: 0 });
  const replicates =
    typeof o.seeds === 'number' || o.seeds === undefined
      ? Array.from({ length: requireNumber('seeds', o.seeds ?? 1, { integer: true, min: 1 }) }, (_, i) => i)
      : o.seeds.map((s, i) => requireNumber(`seeds[${i}]`, s, { integer: true, min: 0 }));
  const runs: RunSpec[] = [];
  for (const point of gridPoints(o.grid)) {
    const seeds: PointSeeds = { task: deriveSeed(base, point, 'task'), data: deriveSeed(base, point, 'data') };
    const built = o.run(point, seeds);
    const network = networkConfig(built.network);
    const training = trainingConfig(built.training);
    const ensemble_id = coordText(point) || 'run';
    for (const r of replicates) {
      runs.push({
        kind: 'run-spec',
        source: 'trained',
        source_path: null,
        run_id: `${ensemble_id},replicate=${r}`,
        ensemble_id,
        seed: deriveSeed(base, point, 'network', r),
        data_seed: seeds.data,
        coords: { ...point, replicate: r },
        task: built.task,
        network,
        training,
      });
    }
  }
  return runs;
}

/** A source of `RunSpec`s over a parameter grid (validated in full when subscribed, before the first emission). */
export function sweep<G extends Record<string, readonly Scalar[]>>(o: SweepOptions<G>): Observable<RunSpec> {
  return defer(() => from(sweepRuns(o)));
}
