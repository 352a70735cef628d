/**
 * `analyzeFiles`: the geometry of networks geomstream did not train, into a results folder of the
 * same layout as `runPipeline`'s. Checkpoints are read by `fromCheckpoints` and probed; saved
 * activations by `fromActivations`; then `geometry` and `writeResults`, as in any pipeline.
 * Everything that can be checked (options, metrics and what they need, the task, the path, the
 * output folder) is checked before the folder is touched.
 */
import { lastValueFrom, pipe, tap, type OperatorFunction } from 'rxjs';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ErrorRow, StreamRecord, Task } from './types.js';
import type { ActivationSpec } from './activations.js';
import { ConfigError, requireNumber } from './errors.js';
import { fromCheckpoints, type CheckpointsOptions } from './sources/checkpoints.js';
import { fromActivations } from './sources/activations.js';
import type { StopInfo, WatchOptions } from './sources/watch.js';
import { probe } from './operators/probe.js';
import { geometry, checkMetricNeeds, type MetricRequest } from './operators/geometry.js';
import { checkDatasetName, prepareResultsDir, writeResults, type ResultFormat, type ResultsSummary } from './sinks/results.js';
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
  /** Called with warnings (e.g. a stale lock taken over). */
  onWarning?: (message: string) => void;
  /** Called with every record as it goes to the sink (for progress). */
  onRecord?: (r: StreamRecord) => void;
}

/** The default metric set for a task. */
export function defaultAnalysisMetrics(task: Task): MetricRequest[] {
  return [task.N > 0 ? 'kernel_alignment' : { name: 'kernel_alignment', against: 'target' }, 'ps', 'ccgp'];
}

/** Analyse checkpoint or activation files into `<out>/<name>`; resolves with what was written. */
export async function analyzeFiles(o: AnalyzeOptions): Promise<ResultsSummary> {
  if (!o || typeof o.path !== 'string') throw new ConfigError('path', o?.path, 'a checkpoint or activation file, or a folder of them');
  // A watched folder may not exist yet (the trainer creates it); without watch, the path must exist.
  if (!o.watch) {
    try {
      statSync(o.path);
    } catch (e) {
      throw new ConfigError('path', o.path, `an existing file or folder, or --watch to wait for it (${(e as Error).message})`);
    }
  }
  const task = o.task;
  if (!task || typeof task.P !== 'number') throw new ConfigError('task', task, 'a Task (readTaskFile, taskFromSpec or externalTask)');
  const checkpoints = o.activation !== undefined;
  const samplesPerCondition = requireNumber('samplesPerCondition', o.samplesPerCondition ?? 0, { integer: true, min: 0 });
  if (!checkpoints && o.samplesPerCondition) throw new ConfigError('samplesPerCondition', o.samplesPerCondition, '0 for activation files (their samples are the rows in the files)');
  if (checkpoints && samplesPerCondition > 0 && task.family === 'external') {
    throw new ConfigError('samplesPerCondition', samplesPerCondition, '0 for an external task: it has no noise model to draw probe samples from (give a task file with a family)');
  }
  const metrics = o.metrics ?? defaultAnalysisMetrics(task);
  if (o.watch) {
    // A watched folder has no last checkpoint: a metric asked for only at the final step would never run.
    const finalOnly = metrics.findIndex((m) => typeof m === 'object' && m.steps === 'final');
    if (finalOnly >= 0) throw new ConfigError(`metrics[${finalOnly}].steps`, 'final', "'all' with watch (a watched folder has no final checkpoint)");
  }
  // Activation files may or may not hold several rows per condition: that is known only once read.
  checkMetricNeeds(metrics, { inputs: task.N > 0, samples: checkpoints ? samplesPerCondition > 0 : true });
  const name = checkDatasetName(o.name ?? (o.path.replace(/[/\\]+$/, '').split(/[/\\]/).pop() ?? 'analysis').replace(/\.[a-z]+$/i, ''));
  const stop: StopInfo = { reason: '' };
  const watch = { watch: o.watch, idleExit: o.idleExit, settle: o.settle, poll: o.poll, signal: o.signal, onFile: o.onFile };
  const source = checkpoints
    ? fromCheckpoints({ path: o.path, task, network: { activation: o.activation! }, map: o.map, name, ...watch }, stop)
    : fromActivations({ path: o.path, task, name, ...watch }, stop);
  const process: OperatorFunction<StreamRecord, StreamRecord> = checkpoints
    ? pipe(probe({ samplesPerCondition }), geometry({ metrics, workers: o.workers }))
    : geometry({ metrics, workers: o.workers });
  const dir = join(o.out ?? 'results', name);
  // The sink is built (its options checked) before the folder is touched.
  const sink = writeResults({
    dir, pipeline: name, formats: o.formats, flushEvery: o.watch ? 1000 : undefined, onError: o.onError,
    stopReason: () => stop.reason || 'end of input',
    configuration: {
      source: checkpoints ? 'checkpoints' : 'activations', source_path: o.path, task: task.id,
      activation: o.activation ?? null, metrics, samples_per_condition: samplesPerCondition, watch: o.watch ?? false,
    },
  });
  const release = lockResultsDir(dir, undefined, o.onWarning);
  try {
    await prepareResultsDir(dir, 'out');
    const out = typeof o.stream === 'function' ? o.stream() : o.stream;
    const records = source.pipe(
      process,
      out ? streamMetrics(out) : tap(() => undefined),
      tap((r) => o.onRecord?.(r)),
      sink,
    );
    return await lastValueFrom(records);
  } finally {
    release();
  }
}
