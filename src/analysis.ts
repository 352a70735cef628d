/**
 * `analyzeFiles`: the geometry of networks geomstream did not train, into a results folder of the
 * same layout as `runPipeline`'s. Checkpoints are read by `fromCheckpoints` and probed; saved
 * activations by `fromActivations`; then `geometry` and `writeResults`, as in any pipeline.
 * Everything that can be checked (options, metrics and what they need, the task, the path, the
 * output folder) is checked before the folder is touched.
 */
import { lastValueFrom, pipe, tap, type OperatorFunction } from 'rxjs';
import { basename, join } from 'node:path';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ErrorRow, StreamRecord, Task } from './types.js';
import type { ActivationSpec } from './activations.js';
import { ConfigError, requireNumber } from './errors.js';
import {
  fromCheckpoints,
  tensorMap,
  checkpointOrder,
  readCheckpointFile,
  CHECKPOINT_FILE,
  type CheckpointsOptions,
  type TensorMap,
} from './sources/checkpoints.js';
import { fromActivations, readActivationFile, ACTIVATION_FILE } from './sources/activations.js';
import { listFiles } from './sources/watch.js';
import type { StopInfo, WatchOptions } from './sources/watch.js';
import { probe } from './operators/probe.js';
import { geometry, checkMetricNeeds, type MetricRequest } from './operators/geometry.js';
import {
  checkDatasetName,
  prepareResultsDir,
  writeResults,
  type ResultFormat,
  type ResultsSummary,
} from './sinks/results.js';
import { streamMetrics } from './sinks/metric-stream.js';
import { lockResultsDir } from './sinks/lock.js';

export interface AnalyzeOptions extends WatchOptions {
  /** A checkpoint or activation file, or a folder of them. */
  path: string;
  /** The task the files belong to (`readTaskFile`): conditions, targets, and (for checkpoints) input means. */
  task: Task;
  /**
   * The network's activation. Given: the files are checkpoints (weights), probed on the task's
   * means. Not given: the files are activations.
   */
  activation?: ActivationSpec;
  /** Activation `.npy` files: the condition of each row. */
  conditions?: ArrayLike<number>;
  /** Checkpoint tensor names (see `fromCheckpoints`). */
  map?: CheckpointsOptions['map'];
  /**
   * Metrics (as for `geometry`). Default: kernel_alignment (against input and target, or target
   * only when the task has no inputs), ps and ccgp.
   */
  metrics?: MetricRequest[];
  /** Checkpoints: noisy samples per condition to probe for the decoding metrics (default 0: means only). */
  samplesPerCondition?: number;
  /** Parent results folder (default 'results'); results go to `<out>/<name>`. */
  out?: string;
  /** Dataset name: the results subfolder and run-id prefix. Default: the path's last name. */
  name?: string;
  /**
   * Also write every metric row to this stream, as an Arrow IPC stream, as it is produced; or a
   * function that opens it, called once every check has passed (so a rejected call creates nothing).
   */
  stream?: Writable | (() => Writable);
  formats?: ResultFormat[];
  /** Worker threads for the decoding metrics' classifier fits (as `geometry({ workers })`). Default 1. */
  workers?: number;
  /** Called for each file that could not be used (it is also a row of errors/). */
  onError?: (row: ErrorRow) => void;
  /** Called once the dataset is written, while its lock is still held (the CLI prints its summary here). */
  afterWrite?: (summary: ResultsSummary) => Promise<void> | void;
  /** Called with warnings (e.g. a stale lock taken over). */
  onWarning?: (message: string) => void;
  /** Called with every record as it goes to the sink (for progress). */
  onRecord?: (r: StreamRecord) => void;
}

const PICKLE = /\.(pt|pth|ckpt|bin|pkl|pickle)$/i;

/** The first file of `path` read through the source's checks (see analyzeFiles); a ConfigError if it fails. */
function checkFirstFile(
  path: string,
  checkpoints: boolean,
  task: Task,
  map: TensorMap,
  name: string,
  conditions?: ArrayLike<number>,
): void {
  const pattern = checkpoints ? CHECKPOINT_FILE : ACTIVATION_FILE;
  const files = listFiles(path, (n) => pattern.test(n));
  const kinds = checkpoints ? '.safetensors or .npz checkpoints' : '.parquet, .arrow, .npy or .npz activations';
  if (!files.length) {
    const present = statSync(path).isDirectory() ? readdirSync(path) : [basename(path)];
    const pickle = present.find((n) => PICKLE.test(n));
    throw new ConfigError(
      'path',
      path,
      pickle
        ? `${kinds}: ${pickle} looks like a torch.save (pickle) file, which geomstream does not read (unpickling can run code); save with safetensors.torch.save_file(model.state_dict(), path)`
        : `a file or folder of ${kinds} (found ${present.length ? present.slice(0, 3).join(', ') + (present.length > 3 ? ', …' : '') : 'nothing'})`,
    );
  }
  const first = checkpoints ? checkpointOrder(files)[0] : files[0];
  try {
    const bytes = readFileSync(first.path);
    if (checkpoints) readCheckpointFile(first.path, bytes, map, task);
    else readActivationFile(first.path, bytes, task, name, conditions);
  } catch (e) {
    throw new ConfigError(
      'path',
      first.path,
      `files that can be analysed, and the first one is not: ${(e as Error).message}`,
    );
  }
}

/** The default metric set for a task. */
export function defaultAnalysisMetrics(task: Task): MetricRequest[] {
  return [task.N > 0 ? 'kernel_alignment' : { name: 'kernel_alignment', against: 'target' }, 'ps', 'ccgp'];
}

/** Analyse checkpoint or activation files into `<out>/<name>`; resolves with what was written. */
export async function analyzeFiles(o: AnalyzeOptions): Promise<ResultsSummary> {
  if (!o || typeof o.path !== 'string')
    throw new ConfigError('path', o?.path, 'a checkpoint or activation file, or a folder of them');
  // A watched folder may not exist yet (the trainer creates it); without watch, the path must exist.
  if (!o.watch) {
    try {
      statSync(o.path);
    } catch (e) {
      throw new ConfigError(
        'path',
        o.path,
        `an existing file or folder, or --watch to wait for it (${(e as Error).message})`,
      );
    }
  }
  const task = o.task;
  if (!task || typeof task.P !== 'number')
    throw new ConfigError('task', task, 'a Task (readTaskFile, taskFromSpec or externalTask)');
  const checkpoints = o.activation !== undefined;
  const samplesPerCondition = requireNumber('samplesPerCondition', o.samplesPerCondition ?? 0, {
    integer: true,
    min: 0,
  });
  if (checkpoints && o.conditions !== undefined)
    throw new ConfigError(
      'conditions',
      `${o.conditions.length} values`,
      "no conditions with checkpoints (they are probed on the task's condition means); --conditions is for .npy activations",
    );
  if (!checkpoints && o.samplesPerCondition)
    throw new ConfigError(
      'samplesPerCondition',
      o.samplesPerCondition,
      '0 for activation files (their samples are the rows in the files)',
    );
  if (checkpoints && samplesPerCondition > 0 && task.family === 'external') {
    throw new ConfigError(
      'samplesPerCondition',
      samplesPerCondition,
      '0 for an external task: it has no noise model to draw probe samples from (give a task file with a family)',
    );
  }
  const metrics = o.metrics ?? defaultAnalysisMetrics(task);
  if (o.watch) {
    // A watched folder has no last checkpoint: a metric asked for only at the final step would never run.
    const finalOnly = metrics.findIndex((m) => typeof m === 'object' && m.steps === 'final');
    if (finalOnly >= 0)
      throw new ConfigError(
        `metrics[${finalOnly}].steps`,
        'final',
        "'all' with watch (a watched folder has no final checkpoint)",
      );
  }
  // Activation files may or may not hold several rows per condition: that is known only once read.
  checkMetricNeeds(metrics, { inputs: task.N > 0, samples: checkpoints ? samplesPerCondition > 0 : true });
  const name = checkDatasetName(
    o.name ??
      (
        o.path
          .replace(/[/\\]+$/, '')
          .split(/[/\\]/)
          .pop() ?? 'analysis'
      ).replace(/\.[a-z]+$/i, ''),
  );
  const stop: StopInfo = { reason: '' };
  const watch = {
    watch: o.watch,
    idleExit: o.idleExit,
    settle: o.settle,
    poll: o.poll,
    signal: o.signal,
    onFile: o.onFile,
  };
  const source = checkpoints
    ? fromCheckpoints({ path: o.path, task, network: { activation: o.activation! }, map: o.map, name, ...watch }, stop)
    : fromActivations({ path: o.path, task, name, conditions: o.conditions, ...watch }, stop);
  // Without watch, the first file goes through every check now: a wrong map, task or format fails
  // here, before the previous results are touched, not as one error row per file.
  if (!o.watch) checkFirstFile(o.path, checkpoints, task, tensorMap(o.map), name, o.conditions);
  const operators: OperatorFunction<StreamRecord, StreamRecord> = checkpoints
    ? pipe(probe({ samplesPerCondition }), geometry({ metrics, workers: o.workers }))
    : geometry({ metrics, workers: o.workers });
  const dir = join(o.out ?? 'results', name);
  // The sink is built (its options checked) before the folder is touched.
  const sink = writeResults({
    dir,
    pipeline: name,
    formats: o.formats,
    flushEvery: o.watch ? 1000 : undefined,
    onError: o.onError,
    stopReason: () => stop.reason || 'end of input',
    configuration: {
      source: checkpoints ? 'checkpoints' : 'activations',
      source_path: o.path,
      task: task.id,
      activation: o.activation ?? null,
      metrics,
      samples_per_condition: samplesPerCondition,
      watch: o.watch ?? false,
    },
  });
  const release = lockResultsDir(dir, undefined, o.onWarning);
  try {
    await prepareResultsDir(dir, 'out', undefined, { all: true });
    const out = typeof o.stream === 'function' ? o.stream() : o.stream;
    const records = source.pipe(
      operators,
      out ? streamMetrics(out) : tap(() => undefined),
      tap((r) => o.onRecord?.(r)),
      sink,
    );
    const summary = await lastValueFrom(records);
    await o.afterWrite?.(summary);
    return summary;
  } finally {
    release();
  }
}
