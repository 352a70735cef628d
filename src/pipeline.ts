/**
 * Pipelines: what a file in `pipelines/` exports (`definePipeline`), and how it is run
 * (`runPipeline`): runs are built and validated in full, the output folder is checked, then the
 * runs stream through the pipeline's operators into the results folder.
 */
import { from, lastValueFrom, tap, toArray, type Observable, type OperatorFunction } from 'rxjs';
import { join } from 'node:path';
import type { RunRecord, TrainedRunSpec as RunSpec, StreamRecord } from './types.js';
import { ConfigError, requireNumber } from './errors.js';
import { stepsPerEpoch } from './config.js';
import { initBackend, type BackendName } from './engine/backend.js';
import { engineChoice, trainsOnKernel, type EngineChoice } from './engine/training.js';
import {
  streamFiles,
  writeResults,
  SCHEMA_VERSION,
  type ResultFormat,
  type ResultsSummary,
  type SnapshotFormat,
} from './sinks/results.js';
import {
  checkDatasetName,
  IF_EXISTS,
  listedFiles,
  planDataset,
  prepareResultsDir,
  streamName,
  shardNames,
  type IfExists,
  type Shard,
} from './sinks/dataset.js';
import { ensembleHashes, processHash } from './run-identity.js';
import { Flow } from './flow.js';
import { resolveParams, type Params } from './params.js';
import { streamMetrics } from './sinks/metric-stream.js';
import { lockResultsDir } from './sinks/lock.js';
import type { Writable } from 'node:stream';
import { splitPays, type TrainOptions } from './operators/train.js';
import { WorkerPool } from './parallel/pool.js';

/** What a pipeline's functions receive. */
export interface PipelineContext<P extends Params = Params> {
  /** --quick: a smaller, faster version of the pipeline (for smoke tests). */
  quick: boolean;
  /** The pipeline's parameters: its defaults (for this `quick`), with `--set name=value` applied. */
  params: P;
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

export interface Pipeline<P extends Params = Params> {
  /** Name of the results subfolder and the `pipeline` column. */
  name: string;
  description?: string;
  /** Default base seed (recorded in the manifest). Default 0. */
  seed?: number;
  /**
   * Parameters a user may change with `--set name=value` (src/params.ts), with their defaults —
   * or a function of `quick` giving them. Default none.
   */
  params?: P | ((ctx: { quick: boolean }) => P);
  /** The runs to train, e.g. a `sweep(...)`. */
  runs(ctx: PipelineContext<P>): Observable<RunSpec> | RunSpec[];
  /** The operators from runs to records, e.g. `pipe(train(ctx.train), probe(), geometry())`. */
  process(ctx: PipelineContext<P>): OperatorFunction<StreamRecord, StreamRecord>;
  /**
   * A DuckDB query printed after the run, over the views `runs` and `metrics` of the results
   * folder (and `final`, the last checkpoint's rows of every run).
   */
  summary?: { title: string; sql: string };
}

/** Declare a pipeline (identity, for type checking and documentation). */
export function definePipeline<P extends Params = Params>(p: Pipeline<P>): Pipeline<P> {
  return p;
}

/** A pipeline's parameter defaults for `quick`. */
export function pipelineParams(pipeline: Pipeline<Params>, quick = false): Params {
  const p = typeof pipeline.params === 'function' ? pipeline.params({ quick }) : (pipeline.params ?? {});
  for (const [k, v] of Object.entries(p)) {
    const ok =
      ['number', 'string', 'boolean'].includes(typeof v) ||
      (Array.isArray(v) && (v.every((x) => typeof x === 'number') || v.every((x) => typeof x === 'string')));
    if (!ok) throw new ConfigError(`params.${k}`, v, 'a number, string, boolean, or a list of numbers or of strings');
  }
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
  /**
   * What to do with a dataset already in the folder: 'resume' (default) keeps the ensembles it holds
   * complete with the same configuration and trains the rest, refusing a dataset of another
   * configuration; 'overwrite' replaces geomstream's files (never others); 'error' refuses.
   */
  ifExists?: IfExists;
  formats?: ResultFormat[];
  /** Weight snapshots too: true / 'arrow' (snapshots.arrows) or 'safetensors' (one file per ensemble and step). */
  snapshots?: boolean | SnapshotFormat;
  /** Also write every metric row to this stream as an Arrow IPC stream, as it is produced (or a function that opens it, called once every check has passed). */
  stream?: Writable | (() => Writable);
  /** Called once the runs are known, with the total number of network-steps. */
  onStart?: (info: {
    runs: number;
    networkSteps: number;
    backend: BackendName;
    dir: string;
    engine: EngineChoice;
    kernelRuns: number;
    keptRuns: number;
    shard: Shard | null;
  }) => void;
  /** Called once the dataset is written, while its lock is still held (the CLI prints its summary here). */
  afterWrite?: (summary: ResultsSummary) => Promise<void> | void;
  /** Called with warnings (e.g. a stale lock taken over). */
  onWarning?: (message: string) => void;
  /** Called with network-steps done, as training proceeds. */
  onSteps?: (n: number) => void;
  /** Pipeline parameters to change (name → value as text, as `--set name=value` gives them). Default none. */
  set?: Record<string, string>;
  /** Called with each run's record as it finishes (its status). */
  onRun?: (record: RunRecord) => void;
  /** Called with every record on its way to the sinks (metric rows, runs, neurons, …), e.g. for a live page. */
  onRecord?: (record: StreamRecord) => void;
}

/** The most worker threads a pipeline may ask for. */
export const MAX_WORKERS = 64;

/** Total SGD updates × networks over a list of runs (for progress reporting). */
export function networkSteps(runs: RunSpec[]): number {
  return runs.reduce((s, r) => s + r.training.epochs * stepsPerEpoch(r.training), 0);
}

/** Run a pipeline end to end into `<out>/<name>`; resolves with what was written. */
export async function runPipeline<P extends Params>(
  pipeline: Pipeline<P>,
  options: RunPipelineOptions = {},
): Promise<ResultsSummary> {
  if (!pipeline || typeof pipeline.runs !== 'function' || typeof pipeline.process !== 'function' || !pipeline.name) {
    throw new ConfigError(
      'pipeline',
      pipeline?.name ?? typeof pipeline,
      'an object from definePipeline({ name, runs, process })',
    );
  }
  const seed = options.seed ?? pipeline.seed ?? 0;
  const workers = requireNumber('workers', options.workers ?? 1, { integer: true, min: 1, max: MAX_WORKERS });
  const quick = options.quick ?? false;
  const params = resolveParams(pipelineParams(pipeline as unknown as Pipeline<Params>, quick), options.set) as P;
  const ctx: PipelineContext<P> = {
    quick,
    params,
    seed,
    train: { backend: options.backend, engine: options.engine, onSteps: options.onSteps, workers },
    workers,
    pool: null,
  };
  // Everything that can be rejected is rejected before training: runs, backend, output folder.
  const built = pipeline.runs(ctx);
  const all = Array.isArray(built) ? built : await lastValueFrom(built.pipe(toArray()));
  const shard = options.shard;
  if (
    shard &&
    !(
      Number.isInteger(shard.count) &&
      shard.count >= 1 &&
      Number.isInteger(shard.index) &&
      shard.index >= 0 &&
      shard.index < shard.count
    )
  ) {
    throw new ConfigError('shard', `${shard.index}/${shard.count}`, 'i/n with integers 0 <= i < n');
  }
  const runs = shard ? selectShard(all, shard) : all;
  const ifExists = options.ifExists ?? 'resume';
  if (!(IF_EXISTS as readonly string[]).includes(ifExists))
    throw new ConfigError('ifExists', ifExists, IF_EXISTS.map((x) => `'${x}'`).join(' | '));
  const engine = engineChoice(options.engine);
  const backend = await initBackend(options.backend);
  const dir = join(options.out ?? 'results', checkDatasetName(pipeline.name, 'pipeline.name'));
  const members = new Map<string, string[]>();
  for (const r of runs) {
    if (!members.has(r.ensemble_id)) members.set(r.ensemble_id, []);
    members.get(r.ensemble_id)!.push(r.run_id);
  }
  const ensembles = [...ensembleHashes(runs)].map(([id, hash]) => ({ id, hash, runs: members.get(id)! }));
  if (workers > 1) ctx.pool = ctx.train.pool = new WorkerPool(workers, backend, engine);
  let release: (() => void) | undefined;
  try {
    // The operator chain and the sink are built — every operator's options checked — before the
    // folder is touched: a misspelt metric or a bad option leaves the previous results as they were.
    const flow = new Flow();
    ctx.train.flow = flow;
    // The parameters `process` reads decide what is computed from every run: they are part of the
    // dataset's identity. The others decide the runs, and are in the ensembles' hashes: a grid that
    // grows (--set alignments=…) is resumed, not refused.
    const read = new Set<string>();
    const operators = pipeline.process({
      ...ctx,
      params: new Proxy(params, {
        get: (t, k) => {
          if (typeof k === 'string') read.add(k);
          return Reflect.get(t, k);
        },
      }),
    });
    // What a resumed writer must share with this one; not the workers or the shard (the numbers do not depend on them).
    const identity = {
      schema_version: SCHEMA_VERSION,
      pipeline: pipeline.name,
      seed,
      quick: ctx.quick,
      backend,
      engine,
      formats: [...new Set(options.formats ?? [])].filter((f) => f !== 'parquet').sort(),
      snapshots: options.snapshots ?? false,
      process: processHash(pipeline),
      params: Object.fromEntries(
        [...read]
          .sort()
          .filter((k) => Object.hasOwn(params, k))
          .map((k) => [k, params[k]]),
      ),
    };
    const sinkOptions = {
      dir,
      pipeline: pipeline.name,
      formats: options.formats,
      snapshots: options.snapshots,
      configuration: {
        seed,
        quick: ctx.quick,
        params,
        backend,
        engine,
        description: pipeline.description ?? null,
        runs: runs.length,
        runs_in_pipeline: all.length,
      },
      shard,
      identity,
      ensemblesInPipeline: new Set(all.map((r) => r.ensemble_id)).size,
      flow,
    };
    writeResults(sinkOptions); // its options are checked here, before the folder is
    release = lockResultsDir(dir, shard, options.onWarning);
    const streams = streamFiles(options);
    const resume = await planDataset({ dir, shard, ifExists, identity, ensembles, streams });
    for (const w of resume.warnings) options.onWarning?.(w);
    const kept = new Set(resume.kept.map((e) => e.id));
    const todo = runs.filter((r) => !kept.has(r.ensemble_id));
    // Ensembles spread over the workers when that keeps more of them busy (one grid point of many
    // seeds), else trained side by side; the numbers are the same either way.
    // Not when the pool also fits the decoding metrics' classifiers (see WorkerPool.fitsMetrics).
    if (ctx.train.pool) {
      const sizes = new Map<string, number>();
      for (const r of todo) sizes.set(r.ensemble_id, (sizes.get(r.ensemble_id) ?? 0) + 1);
      // Not with an early stop: trainGroup does not split those ensembles (their parts could end apart).
      ctx.train.split =
        !ctx.train.pool.fitsMetrics && !todo.some((r) => r.training.stop) && splitPays([...sizes.values()], workers);
    }
    const { suffix } = shardNames(shard);
    const keep = new Set([
      ...resume.kept.flatMap((e) => e.files),
      // Whole stream files stay only when nothing is to be trained; else they are rebuilt from the segments.
      ...(resume.complete && !todo.length ? streams.map((s) => streamName(s, suffix)) : []),
      ...(kept.size ? [`runs${suffix}.parquet`, `manifest${suffix}.json`] : []),
    ]);
    const replaceAll = ifExists === 'overwrite' && !(shard && shard.count > 1);
    // What the manifests being replaced say their writers wrote is theirs, whatever its name.
    const listed =
      ifExists === 'overwrite' ? await listedFiles(dir, replaceAll ? undefined : shard) : new Set<string>();
    await prepareResultsDir(dir, 'out', shard, {
      keep,
      all: replaceAll,
      ensembles: new Set(ensembles.map((e) => e.id)),
      listed,
    });
    const sink = writeResults({
      ...sinkOptions,
      ensembles: ensembles.filter((e) => !kept.has(e.id)),
      resume,
      order: ensembles.map((e) => e.id),
    });
    const kernelRuns = trainsOnKernel(engine, backend) ? todo.length : 0;
    options.onStart?.({
      runs: todo.length,
      networkSteps: networkSteps(todo),
      backend,
      dir,
      engine,
      kernelRuns,
      keptRuns: runs.length - todo.length,
      shard: shard ?? null,
    });
    const processed = from(todo).pipe(operators);
    const out = typeof options.stream === 'function' ? options.stream() : options.stream;
    const streamed = out ? processed.pipe(streamMetrics(out, { flow })) : processed;
    const { onRun, onRecord } = options;
    const records =
      onRun || onRecord
        ? streamed.pipe(
            tap((r) => {
              if (r.kind === 'run') onRun?.(r);
              onRecord?.(r);
            }),
          )
        : streamed;
    const summary = await lastValueFrom(records.pipe(sink));
    await options.afterWrite?.(summary);
    return summary;
  } finally {
    release?.();
    await ctx.pool?.close();
  }
}

/**
 * The runs of one shard: whole ensembles (runs sharing an ensemble_id stay together), balanced by
 * cost — each ensemble, the costliest first (network-steps; ties by position), goes to the shard
 * with the least work so far (ties to the lowest index). Deterministic: it depends only on the run
 * list, so every task of an array job computes the same assignment.
 */
export function selectShard(runs: RunSpec[], shard: Shard): RunSpec[] {
  const cost = new Map<string, { order: number; steps: number }>();
  for (const r of runs) {
    const c = cost.get(r.ensemble_id) ?? { order: cost.size, steps: 0 };
    c.steps += networkSteps([r]);
    cost.set(r.ensemble_id, c);
  }
  const load = new Array<number>(shard.count).fill(0);
  const owner = new Map<string, number>();
  for (const [id, c] of [...cost].sort((a, b) => b[1].steps - a[1].steps || a[1].order - b[1].order)) {
    let best = 0;
    for (let i = 1; i < load.length; i++) if (load[i] < load[best]) best = i;
    load[best] += c.steps;
    owner.set(id, best);
  }
  return runs.filter((r) => owner.get(r.ensemble_id) === shard.index);
}
