/**
 * Pipelines: what a file in `pipelines/` exports (`definePipeline`), and how it is run
 * (`runPipeline`): runs are built and validated in full, the output folder is checked, then the
 * runs stream through the pipeline's operators into the results folder.
 */
import { from, lastValueFrom, toArray, type Observable, type OperatorFunction } from 'rxjs';
import { join } from 'node:path';
import type { RunSpec, StreamRecord } from './types.js';
import { ConfigError } from './errors.js';
import { stepsPerEpoch } from './config.js';
import { initBackend, type BackendName } from './engine/backend.js';
import { prepareResultsDir, writeResults, type ResultFormat, type ResultsSummary } from './sinks/results.js';
import type { TrainOptions } from './operators/train.js';

/** What a pipeline's functions receive. */
export interface PipelineContext {
  /** --quick: a smaller, faster version of the pipeline (for smoke tests). */
  quick: boolean;
  /** The pipeline's base seed (--seed overrides the pipeline's default). */
  seed: number;
  /** Options to pass to `train()`: the backend and the progress hook. */
  train: TrainOptions;
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
  /** Worker threads for training (default 1; see TrainOptions.workers). */
  workers?: number;
  formats?: ResultFormat[];
  snapshots?: boolean;
  /** Called once the runs are known, with the total number of network-steps. */
  onStart?: (info: { runs: number; networkSteps: number; backend: BackendName; dir: string }) => void;
  /** Called with network-steps done, as training proceeds. */
  onSteps?: (n: number) => void;
}

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
  const ctx: PipelineContext = {
    quick: options.quick ?? false,
    seed,
    train: { backend: options.backend, onSteps: options.onSteps, workers: options.workers },
  };
  // Everything that can be rejected is rejected before training: runs, backend, output folder.
  const built = pipeline.runs(ctx);
  const runs = Array.isArray(built) ? built : await lastValueFrom(built.pipe(toArray()));
  const backend = await initBackend(options.backend);
  const dir = join(options.out ?? 'results', pipeline.name);
  await prepareResultsDir(dir);
  options.onStart?.({ runs: runs.length, networkSteps: networkSteps(runs), backend, dir });
  process.stderr.write(`geomstream: backend ${backend}\n`);
  const records = from(runs).pipe(pipeline.process(ctx));
  return lastValueFrom(records.pipe(writeResults({
    dir,
    pipeline: pipeline.name,
    formats: options.formats,
    snapshots: options.snapshots,
    configuration: { seed, quick: ctx.quick, backend, description: pipeline.description ?? null, runs: runs.length },
  })));
}
