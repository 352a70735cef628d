/**
 * Pipelines: what a file in `pipelines/` exports (`definePipeline`), and how it is run
 * (`runPipeline`): runs are built and validated in full, the output folder is checked, then the
 * runs stream through the pipeline's operators into the results folder.
 */
import { from, lastValueFrom, toArray, type Observable, type OperatorFunction } from 'rxjs';
import { join } from 'node:path';
import type { TrainedRunSpec as RunSpec, StreamRecord } from './types.js';
import { ConfigError, requireNumber } from './errors.js';
import { stepsPerEpoch } from './config.js';
import { initBackend, type BackendName } from './engine/backend.js';
import { engineChoice, kernelUnsupported, trainsOnKernel, type EngineChoice } from './engine/training.js';
import { checkDatasetName, prepareResultsDir, writeResults, type ResultFormat, type ResultsSummary, type Shard, type SnapshotFormat } from './sinks/results.js';
import { streamMetrics } from './sinks/metric-stream.js';
import { lockResultsDir } from './sinks/lock.js';
import type { Writable } from 'node:stream';
import type { TrainOptions } from './operators/train.js';
import { WorkerPool } from './parallel/pool.js';

/** What a pipeline's functions receive. */
export interface PipelineContext {
  /** --quick: a smaller, faster version of the pipeline (for smoke tests). */
  quick: boolean;
  /** The pipeline's base seed (--seed overrides the pipeline's default). */
  seed: number;
  /** Options to pass to `train()`: the backend and the progress hook. */
  train: TrainOptions;
  /** Worker threads (--workers). */
  workers: number;
  /**
   * The pipeline's one worker pool (null with one worker), already in `train`: pass it to
   * `geometry({ pool: ctx.pool })` so the decoding metrics' classifier fits share it. Set once the
   * run is validated, before `process` is called.
   */
  pool: WorkerPool | null;
}

export interface Pipeline {
  /** Name of the results subfolder and the `pipeline` column. */
  name: string;
  description?: string;
  /** Default base seed (recorded in the manifest). Default 0. */
  seed?: number;
  /** The runs to train, e.g. a `sweep(...)`. */
  runs(ctx: PipelineContext): Observable<RunSpec> | RunSpec[];
  /** The operators from runs to records, e.g. `pipe(train(ctx.train), probe(), geometry())`. */
  process(ctx: PipelineContext): OperatorFunction<StreamRecord, StreamRecord>;
  /**
   * A DuckDB query printed after the run, over the views `runs` and `metrics` of the results
   * folder (and `final`, the last checkpoint's rows of every run).
   */
  summary?: { title: string; sql: string };
}

/** Declare a pipeline (identity, for type checking and documentation). */
export function definePipeline(p: Pipeline): Pipeline {
  return p;
}

export interface RunPipelineOptions {
  /** Parent results folder; results go to `<out>/<pipeline name>`. Default 'results'. */
  out?: string;
  quick?: boolean;
  seed?: number;
  backend?: string;
  /** Training engine: 'auto' (default), 'kernel' or 'tfjs' (see engine/training.ts). */
  engine?: string;
  /** Worker threads for training (default 1; see TrainOptions.workers). */
  workers?: number;
  /**
   * Train only ensembles k with k mod count = index (k = the ensemble's position in the run list),
   * writing shard-named files into the same results folder (see writeResults). Default: all.
   */
  shard?: Shard;
  formats?: ResultFormat[];
  /** Weight snapshots too: true / 'arrow' (snapshots.arrows) or 'safetensors' (one file per ensemble and step). */
  snapshots?: boolean | SnapshotFormat;
  /** Also write every metric row to this stream as an Arrow IPC stream, as it is produced (or a function that opens it, called once every check has passed). */
  stream?: Writable | (() => Writable);
  /** Called once the runs are known, with the total number of network-steps. */
  onStart?: (info: { runs: number; networkSteps: number; backend: BackendName; dir: string; engine: EngineChoice; kernelRuns: number }) => void;
  /** Called once the dataset is written, while its lock is still held (the CLI prints its summary here). */
  afterWrite?: (summary: ResultsSummary) => Promise<void> | void;
  /** Called with warnings (e.g. a stale lock taken over). */
  onWarning?: (message: string) => void;
  /** Called with network-steps done, as training proceeds. */
  onSteps?: (n: number) => void;
}

/** The most worker threads a pipeline may ask for. */
export const MAX_WORKERS = 64;

/** Total SGD updates × networks over a list of runs (for progress reporting). */
export function networkSteps(runs: RunSpec[]): number {
  return runs.reduce((s, r) => s + r.training.epochs * stepsPerEpoch(r.training), 0);
}

/** Run a pipeline end to end into `<out>/<name>`; resolves with what was written. */
export async function runPipeline(pipeline: Pipeline, options: RunPipelineOptions = {}): Promise<ResultsSummary> {
  if (!pipeline || typeof pipeline.runs !== 'function' || typeof pipeline.process !== 'function' || !pipeline.name) {
    throw new ConfigError('pipeline', pipeline?.name ?? typeof pipeline, 'an object from definePipeline({ name, runs, process })');
  }
  const seed = options.seed ?? pipeline.seed ?? 0;
  const workers = requireNumber('workers', options.workers ?? 1, { integer: true, min: 1, max: MAX_WORKERS });
  const ctx: PipelineContext = {
    quick: options.quick ?? false,
    seed,
    train: { backend: options.backend, engine: options.engine, onSteps: options.onSteps, workers },
    workers,
    pool: null,
  };
  // Everything that can be rejected is rejected before training: runs, backend, output folder.
  const built = pipeline.runs(ctx);
  const all = Array.isArray(built) ? built : await lastValueFrom(built.pipe(toArray()));
  const shard = options.shard;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new ConfigError('shard', `${shard.index}/${shard.count}`, 'i/n with integers 0 <= i < n');
  }
  const runs = shard ? selectShard(all, shard) : all;
  const engine = engineChoice(options.engine);
  if (engine === 'kernel') {
    for (const r of runs) {
      const why = kernelUnsupported(r);
      if (why) throw new ConfigError('engine', 'kernel', `'tfjs' or 'auto' (run ${r.run_id} has ${why})`);
    }
  }
  const backend = await initBackend(options.backend);
  const dir = join(options.out ?? 'results', checkDatasetName(pipeline.name, 'pipeline.name'));
  if (workers > 1) ctx.pool = ctx.train.pool = new WorkerPool(workers, backend, engine);
  let release: (() => void) | undefined;
  try {
    // The operator chain and the sink are built — every operator's options checked — before the
    // folder is touched: a misspelt metric or a bad option leaves the previous results as they were.
    const operators = pipeline.process(ctx);
    const sink = writeResults({
      dir,
      pipeline: pipeline.name,
      formats: options.formats,
      snapshots: options.snapshots,
      configuration: { seed, quick: ctx.quick, backend, engine, description: pipeline.description ?? null, runs: runs.length, runs_in_pipeline: all.length },
      shard,
    });
    release = lockResultsDir(dir, shard, options.onWarning);
    await prepareResultsDir(dir, 'out', shard);
    const kernelRuns = runs.filter((r) => trainsOnKernel(engine, r, backend)).length;
    options.onStart?.({ runs: runs.length, networkSteps: networkSteps(runs), backend, dir, engine, kernelRuns });
    const processed = from(runs).pipe(operators);
    const out = typeof options.stream === 'function' ? options.stream() : options.stream;
    const records = out ? processed.pipe(streamMetrics(out)) : processed;
    const summary = await lastValueFrom(records.pipe(sink));
    await options.afterWrite?.(summary);
    return summary;
  } finally {
    release?.();
    await ctx.pool?.close();
  }
}

/**
 * The runs of one shard: whole ensembles (runs sharing an ensemble_id stay together), the k-th
 * distinct ensemble going to shard k mod n. Deterministic: it depends only on the run list.
 */
export function selectShard(runs: RunSpec[], shard: Shard): RunSpec[] {
  const order = new Map<string, number>();
  for (const r of runs) if (!order.has(r.ensemble_id)) order.set(r.ensemble_id, order.size);
  return runs.filter((r) => order.get(r.ensemble_id)! % shard.count === shard.index);
}
