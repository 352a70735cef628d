/**
 * `fromActivations`: hidden activity saved by another program, read as `Representation`s, so
 * `geometry` works on it unchanged (CKA/RSA on the condition means; PS; CCGP, SD and
 * decodability on the samples).
 *
 * Files (one or a folder of them; with `watch`, tailed as in sources/watch.ts):
 * - Parquet or Arrow IPC tables: an integer column `condition`, optional `step`, `layer` and
 *   `run_id` columns, and the activity as a `list<float>` column `activity` or as the remaining
 *   numeric columns (one per unit);
 * - `.npz` with `activity` [n, H] and `conditions` [n] (and optional scalar `step`, `layer`);
 * - `.npy` with `activity` [n, H], the conditions given as the `conditions` option.
 * Rows are grouped by (run_id, step, layer); each group is one Representation: the mean activity
 * per condition (P × H; every condition needs a row) and, when some condition has several rows,
 * the rows themselves as samples. Missing columns default to: run_id = the name, step = the first
 * integer of the file name (else 0), layer = 1.
 */
import { Observable } from 'rxjs';
import { basename, extname } from 'node:path';
import { RecordBatchReader, Table } from 'apache-arrow';
import type { Readable } from 'node:stream';
import type { IngestedRunSpec, Matrix, MatrixLike, Representation, StreamRecord, Task } from '../types.js';
import { ConfigError } from '../errors.js';
import { readNpy } from '../formats/npy.js';
import { readNpz } from '../formats/npz.js';
import { readTable } from '../formats/tables.js';
import type { Tensor } from '../formats/tensor.js';
import { externalTask } from './task-file.js';
import { IngestedRuns, errorRow } from './ingested-runs.js';
import {
  readyFiles,
  stepFromName,
  watchOptions,
  withTeardown,
  type FoundFile,
  type StopInfo,
  type WatchOptions,
} from './watch.js';

export interface ActivationsOptions extends WatchOptions {
  /** An activation file, or a folder of them. */
  path: string;
  /** The task (from a task file); or give `targets` (and `inputs`) for an external task. */
  task?: Task;
  /** Targets, P × K (0/1), when no task is given. */
  targets?: MatrixLike;
  /** Input means, P × N, when no task is given (without them, metrics against 'input' are rejected). */
  inputs?: MatrixLike | null;
  /** The condition of each row, for `.npy` files (which hold only the activity). */
  conditions?: ArrayLike<number>;
  /** Run id when the files have no `run_id` column. Default: the file's or folder's name. */
  name?: string;
}

export const ACTIVATION_FILE = /\.(parquet|arrow|arrows|feather|npz|npy)$/i;

/** One group of rows: the activity of one run at one step and layer. */
interface Group {
  run_id: string;
  step: number;
  layer: number;
  rows: number[][];
  conditions: number[];
}

const intColumn = (t: Table, name: string): Array<number | null> | null => {
  const col = t.getChild(name);
  if (!col) return null;
  return Array.from({ length: t.numRows }, (_, i) => {
    const v = col.get(i) as number | bigint | null;
    return v === null ? null : Number(v);
  });
};

/** A unit's value in a row: a number (a null or a non-number is an error, never a silent 0). */
const unitValue = (v: unknown, row: number): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new ConfigError(`activity (row ${row})`, v, 'a number in every unit column (no nulls)');
};

/** The groups of an Arrow table (see the module comment). */
function tableGroups(t: Table, name: string, fileStep: number): Group[] {
  const cond = intColumn(t, 'condition');
  if (!cond)
    throw new ConfigError(
      'condition',
      `columns ${t.schema.fields.map((f) => f.name).join(', ')}`,
      "an integer column 'condition'",
    );
  const steps = intColumn(t, 'step');
  const layers = intColumn(t, 'layer');
  const runCol = t.getChild('run_id');
  const activityCol = t.getChild('activity');
  const unitNames = activityCol
    ? []
    : t.schema.fields.map((f) => f.name).filter((n) => !['condition', 'step', 'layer', 'run_id'].includes(n));
  if (!activityCol && !unitNames.length)
    throw new ConfigError(
      'activity',
      'no activity columns',
      "a list<float> column 'activity' or one numeric column per unit",
    );
  const units = unitNames.map((n) => t.getChild(n)!);
  const groups = new Map<string, Group>();
  for (let i = 0; i < t.numRows; i++) {
    const c = cond[i];
    if (c === null) throw new ConfigError(`condition[${i}]`, null, 'an integer condition index');
    const row = activityCol
      ? Array.from((activityCol.get(i) ?? []) as ArrayLike<number>, Number)
      : units.map((u) => unitValue(u.get(i), i));
    const run_id = runCol ? String(runCol.get(i)) : name;
    const step = steps?.[i] ?? fileStep;
    const layer = layers?.[i] ?? 1;
    const key = `${run_id}\u0000${step}\u0000${layer}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { run_id, step, layer, rows: [], conditions: [] }));
    g.rows.push(row);
    g.conditions.push(c);
  }
  return [...groups.values()];
}

const scalarOf = (t: Tensor | undefined, field: string): number | null => {
  if (!t) return null;
  if (t.data.length !== 1) throw new ConfigError(field, `shape [${t.shape.join(', ')}]`, 'a scalar');
  return Number(t.data[0]);
};

/** The groups of a .npy or .npz file. */
function arrayGroups(
  path: string,
  bytes: Uint8Array,
  name: string,
  fileStep: number,
  conditions: ArrayLike<number> | undefined,
): Group[] {
  let activity: Tensor;
  let cond: ArrayLike<number> | undefined = conditions;
  let step = fileStep,
    layer = 1;
  if (extname(path).toLowerCase() === '.npz') {
    const entries = readNpz(bytes);
    const a = entries.get('activity');
    if (!a)
      throw new ConfigError(
        'activity',
        `entries ${[...entries.keys()].join(', ')}`,
        "an array 'activity' [n, H] (and 'conditions' [n])",
      );
    activity = a;
    const c = entries.get('conditions');
    if (c) cond = c.data;
    step = scalarOf(entries.get('step'), 'step') ?? step;
    layer = scalarOf(entries.get('layer'), 'layer') ?? layer;
  } else {
    activity = readNpy(bytes);
  }
  if (activity.shape.length !== 2)
    throw new ConfigError('activity.shape', `[${activity.shape.join(', ')}]`, '[n, H]: one row per sample');
  if (!cond)
    throw new ConfigError(
      'conditions',
      null,
      "each row's condition: a 'conditions' array in the .npz, or the conditions option for a .npy",
    );
  const [n, H] = activity.shape;
  if (cond.length !== n) throw new ConfigError('conditions', `${cond.length} values`, `one per activity row: ${n}`);
  const rows = Array.from({ length: n }, (_, i) => Array.from(activity.data.subarray(i * H, (i + 1) * H), Number));
  return [{ run_id: name, step, layer, rows, conditions: Array.from(cond, Number) }];
}

/** A group's Representation: condition means, and the rows as samples when some condition has several. */
function representation(g: Group, task: Task, run: IngestedRunSpec, file?: string): Representation {
  const P = task.P;
  const H = g.rows[0]?.length ?? 0;
  const counts = new Array<number>(P).fill(0);
  const sums = new Float64Array(P * H);
  g.rows.forEach((row, i) => {
    const c = g.conditions[i];
    if (!Number.isInteger(c) || c < 0 || c >= P)
      throw new ConfigError(
        `condition (row ${i})`,
        c,
        `an integer in [0, ${P - 1}] (the task has P = ${P} conditions)`,
      );
    if (row.length !== H)
      throw new ConfigError(`activity (row ${i})`, `${row.length} units`, `${H} units, as in the first row`);
    for (let j = 0; j < H; j++) {
      if (!Number.isFinite(row[j])) throw new ConfigError(`activity (row ${i}, unit ${j})`, row[j], 'a finite number');
      sums[c * H + j] += row[j];
    }
    counts[c]++;
  });
  const missing = counts.indexOf(0);
  if (missing >= 0)
    throw new ConfigError(
      'condition',
      `no row of condition ${missing}`,
      `rows of every condition 0..${P - 1} (run ${g.run_id}, step ${g.step})`,
    );
  for (let c = 0; c < P; c++) for (let j = 0; j < H; j++) sums[c * H + j] /= counts[c];
  const means: Matrix = { rows: P, cols: H, data: sums };
  const samples = counts.some((n) => n > 1)
    ? {
        activity: { rows: g.rows.length, cols: H, data: Float64Array.from(g.rows.flat()) },
        conditions: Int32Array.from(g.conditions),
      }
    : null;
  return {
    kind: 'representation',
    run_id: g.run_id,
    ensemble_id: g.run_id,
    step: g.step,
    epoch: null,
    loss: null,
    accuracy: null,
    layer: g.layer,
    means,
    samples,
    run,
    ensemble_size: 1,
    final: false,
    source_file: file,
  };
}

/** The run of activations read from `path`: no network, no training. */
const activationRun = (run_id: string, task: Task, source_path: string): IngestedRunSpec => ({
  kind: 'run-spec',
  run_id,
  ensemble_id: run_id,
  coords: {},
  task,
  source: 'activations',
  source_path,
  seed: null,
  data_seed: null,
  training: null,
  network: null,
});

/**
 * Read one activation file through every check the source makes: its Representations, or a
 * ConfigError. For checking a folder's first file up front.
 */
export function readActivationFile(
  path: string,
  bytes: Uint8Array,
  task: Task,
  name: string,
  conditions?: ArrayLike<number>,
): Representation[] {
  const fileStep = stepFromName(path) ?? 0;
  const ext = extname(path).toLowerCase();
  const groups =
    ext === '.npy' || ext === '.npz'
      ? arrayGroups(path, bytes, name, fileStep, conditions)
      : tableGroups(readTable(bytes), name, fileStep);
  return groups.map((g) => representation(g, task, activationRun(g.run_id, task, path), path));
}

/** Files in step order (from their names), then by path. */
function activationOrder<F extends FoundFile>(files: F[]): F[] {
  return files
    .map((f) => ({ f, s: stepFromName(f.path) ?? Infinity }))
    .sort((a, b) => a.s - b.s || a.f.path.localeCompare(b.f.path))
    .map((x) => x.f);
}

/**
 * Read activation files as `Representation`s (see the module comment), then a `RunRecord` per
 * run (source 'activations'). Without `watch`, each run's highest step is `final`. A file that
 * cannot be used becomes one `ErrorRow`; the stream goes on. Options are checked when this is
 * called, before anything is read.
 */
export function fromActivations(
  options: ActivationsOptions,
  stop: StopInfo = { reason: '' },
): Observable<StreamRecord> {
  const watch = watchOptions(options);
  const task =
    options.task ??
    (options.targets ? externalTask({ targets: options.targets, inputs: options.inputs ?? null }) : null);
  if (!task) throw new ConfigError('task', null, 'a task (a task file) or targets (P × K, 0/1) for the conditions');
  const base = options.name ?? basename(options.path).replace(ACTIVATION_FILE, '');
  return new Observable<StreamRecord>((subscriber) => {
    const { options: watched, teardown } = withTeardown(options);
    let cancelled = false;
    const runs = new IngestedRuns();
    const seen = new Set<string>();
    const held = new Map<string, Representation[]>();
    (async () => {
      for await (const f of readyFiles(options.path, (n) => ACTIVATION_FILE.test(n), watched, activationOrder, stop)) {
        if (cancelled) return;
        if (f.error !== undefined) {
          subscriber.next(errorRow(f.path, stepFromName(f.path), f.error));
          continue;
        }
        const fileStep = stepFromName(f.path) ?? 0;
        const name = f.group === null ? base : `${base}/${f.group}`;
        try {
          // Every group is checked before any run is registered: a bad file adds no run and no step.
          const read = readActivationFile(f.path, f.bytes, task, name, options.conditions);
          const key = (r: Representation) => `${r.run_id}\u0000${r.step}\u0000${r.layer}`;
          const again = read.find((r) => seen.has(key(r)));
          if (again)
            throw new ConfigError(
              'step',
              again.step,
              `one set of rows per run, step and layer: run ${again.run_id} step ${again.step} layer ${again.layer} was already read`,
            );
          const reps = read.map((r) => ({ ...r, run: runs.at(r.run_id, r.step, () => r.run as IngestedRunSpec) }));
          for (const r of reps) {
            seen.add(key(r));
            options.onFile?.({ path: f.path, step: r.step, mtimeMs: f.mtimeMs });
          }
          for (const r of reps) {
            if (watch.watch) {
              subscriber.next(r);
              continue;
            }
            // Without watch, hold each run's latest step back until a later one (or the end) shows whether it is final.
            const h = held.get(r.run_id) ?? [];
            if (h.length && h[0].step < r.step) {
              for (const x of h) subscriber.next(x);
              h.length = 0;
            }
            h.push(r);
            held.set(r.run_id, h);
          }
        } catch (e) {
          subscriber.next(errorRow(f.path, fileStep, e));
        }
      }
      if (cancelled) return;
      // Stopped by a signal before the end: the last files read are not the runs' last steps.
      const ended = stop.reason !== 'signal';
      for (const h of held.values())
        for (const r of h) subscriber.next({ ...r, final: ended && r.step === runs.last(r.run_id) });
      for (const r of runs.records()) subscriber.next(r);
      subscriber.complete();
    })().catch((e) => subscriber.error(e));
    return () => {
      cancelled = true;
      teardown();
    };
  });
}

export interface ArrowStreamOptions {
  /** The task of the rows' conditions. */
  task: Task;
  /** Run id when the rows have no `run_id` column. Default 'stream'. */
  name?: string;
}

/**
 * `fromArrowStream(readable, { task })`: activation rows from an Arrow IPC stream — stdin, a
 * socket, a file still being appended — in the table layout of `fromActivations` (condition,
 * optional step, layer, run_id, and the activity). Each record batch must hold whole checkpoints
 * (every row of a run, step and layer): a writer sends one batch per checkpoint (without a step
 * column, a batch's step is its index in the stream). Each batch's
 * groups are emitted as Representations as soon as it arrives (none is `final`: the stream could
 * go on); a batch that cannot be used is an ErrorRow; at the end of the stream, one RunRecord per run.
 */
export function fromArrowStream(
  readable: Readable | AsyncIterable<Uint8Array>,
  options: ArrowStreamOptions,
): Observable<StreamRecord> {
  const task = options.task;
  if (!task || typeof task.P !== 'number')
    throw new ConfigError('task', task, 'a Task (from a task file or externalTask)');
  const name = options.name ?? 'stream';
  return new Observable<StreamRecord>((subscriber) => {
    let cancelled = false;
    const runs = new IngestedRuns();
    const seen = new Set<string>();
    let reader: AsyncIterator<unknown> | null = null;
    (async () => {
      let index = 0;
      try {
        const batches = await RecordBatchReader.from(readable as AsyncIterable<Uint8Array>);
        reader = batches[Symbol.asyncIterator]();
        for await (const batch of batches) {
          if (cancelled) return;
          const label = `arrow stream batch ${index++}`;
          try {
            const groups = tableGroups(new Table(batch), name, index - 1);
            const reps = groups.map((g) => {
              const key = `${g.run_id}\u0000${g.step}\u0000${g.layer}`;
              if (seen.has(key))
                throw new ConfigError(
                  'step',
                  g.step,
                  `one batch per run, step and layer: run ${g.run_id} step ${g.step} layer ${g.layer} came already (without a step column, a batch's step is its index)`,
                );
              return representation(g, task, activationRun(g.run_id, task, 'arrow stream'));
            });
            for (const g of groups) seen.add(`${g.run_id}\u0000${g.step}\u0000${g.layer}`);
            for (const r of reps)
              subscriber.next({ ...r, run: runs.at(r.run_id, r.step, () => r.run as IngestedRunSpec) });
          } catch (e) {
            subscriber.next(errorRow(label, null, e));
          }
        }
      } catch (e) {
        // A broken or truncated stream ends the source; what came before it is kept.
        subscriber.next(
          errorRow(
            `arrow stream batch ${index}`,
            null,
            new ConfigError('stream', 'Arrow IPC', `a readable Arrow IPC stream (${(e as Error).message})`),
          ),
        );
      }
      if (cancelled) return;
      for (const r of runs.records()) subscriber.next(r);
      subscriber.complete();
    })().catch((e) => subscriber.error(e));
    return () => {
      cancelled = true;
      void reader?.return?.();
    };
  });
}
