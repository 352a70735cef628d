/**
 * `train()`: RunSpec → WeightSnapshot… + RunRecord.
 *
 * Consecutive runs that differ only in their seed (same `ensemble_id`, task, data seed and
 * configurations — what `sweep` emits for one grid point) are trained together as one ensemble in
 * the same tensor ops. For each checkpoint the operator emits one `WeightSnapshot` per network
 * still training, then, when the ensemble is done, one `RunRecord` per run with its status.
 * A run whose loss becomes NaN is recorded as `status = 'diverged'` with the step, and the others
 * go on; an ensemble that throws is recorded as `status = 'failed'`, and later ensembles go on.
 */
import { concatMap, defer, finalize, from, mergeMap, Observable, of, type OperatorFunction } from 'rxjs';
import type { RunRecord, TrainedRunSpec as RunSpec, StreamRecord, TrainingConfig, WeightSnapshot } from '../types.js';
import { initBackend } from '../engine/backend.js';
import { ensembleKey, trainEnsemble, type TrainEvent } from '../engine/training.js';
import { WorkerPool } from '../parallel/pool.js';
import { ConfigError, requireNumber } from '../errors.js';
import { networkConfig, trainingConfig } from '../config.js';
import type { Flow } from '../flow.js';

export interface TrainOptions {
  /** Train runs that differ only in seed together (default true); false trains each run alone. */
  ensemble?: boolean;
  /** Largest ensemble to form (default: no limit). */
  maxEnsemble?: number;
  /** Backend to initialise ('auto' default; see `initBackend`). */
  backend?: string;
  /** Training engine: 'auto' (default), 'kernel' or 'tfjs' (see engine/training.ts). */
  engine?: string;
  /** Progress hook, called with the number of network-steps done since the last call. */
  onSteps?: (networkSteps: number) => void;
  /**
   * Worker threads to train in (default 1: in this thread). With n > 1, up to n ensembles train at
   * once, each in a worker owning its own backend; the numbers are the same, the order of records
   * from different ensembles interleaves.
   */
  workers?: number;
  /**
   * A worker pool to train in instead of one of this operator's own (`workers` is then the pool's
   * size). `runPipeline` passes the pipeline's one pool here and to `geometry`; the caller closes it.
   */
  pool?: WorkerPool | null;
  /**
   * With a pool: train ensembles one after another, each split into one part per worker (its
   * networks dealt out in contiguous blocks; they share data and minibatch order, so each trains as
   * it would in the whole ensemble), so that a single grid point keeps every core busy. The records
   * are those of one worker, in the same order. Default false: whole ensembles, up to one per worker
   * at once. `runPipeline` sets it when that keeps more workers busy (`splitPays`).
   */
  split?: boolean;
  /**
   * Backpressure: training waits before each checkpoint while the flow's consumers hold more than
   * its limit (`runPipeline` passes the one its results sink tells; see src/flow.ts). Default none.
   */
  flow?: Flow;
}

/** Group consecutive run specs that can share an ensemble; other records pass through alone. */
function groupEnsembles(maxSize: number, together: boolean): OperatorFunction<StreamRecord, StreamRecord | RunSpec[]> {
  return (source) =>
    new Observable((subscriber) => {
      let group: RunSpec[] = [];
      let key = '';
      const flush = () => {
        if (group.length) subscriber.next(group);
        group = [];
      };
      return source.subscribe({
        next(r) {
          if (r.kind !== 'run-spec') {
            flush();
            subscriber.next(r);
            return;
          }
          if (r.source !== 'trained')
            throw new ConfigError(
              'run.source',
              r.source,
              "'trained' (train() trains runs; ingested runs come with their snapshots)",
            );
          // Validate here too, for streams not built by `sweep`.
          networkConfig(r.network as never);
          trainingConfig(r.training);
          const k = ensembleKey(r);
          if (!together || k !== key || group.length >= maxSize) flush();
          key = k;
          group.push(r);
        },
        error: (e) => subscriber.error(e),
        complete() {
          flush();
          subscriber.complete();
        },
      });
    });
}

/** Train one ensemble, emitting its snapshots as they come and its run records at the end. */
function trainGroup(runs: RunSpec[], options: TrainOptions, pool: WorkerPool | null = null): Observable<StreamRecord> {
  return new Observable<StreamRecord>((subscriber) => {
    let cancelled = false;
    let iterator: AsyncGenerator<TrainEvent> | null = null;
    const started = performance.now();
    const status = runs.map(() => ({
      diverged: null as number | null,
      loss: null as number | null,
      accuracy: null as number | null,
      maxParamChange: null as number | null,
      stoppedEpoch: null as number | null,
      step: 0,
      final: false,
    }));
    (async () => {
      let backend = 'unknown';
      let engine: string | null = null;
      let error: string | null = null;
      try {
        if (pool) {
          const hooks = {
            onSteps: options.onSteps,
            onBackend: (b: string) => {
              backend = b;
            },
          };
          // Not an ensemble with an early stop: its parts could finish at different steps.
          const parts = options.split && !runs[0].training.stop ? splitEnsemble(runs, pool.size) : [runs];
          iterator =
            parts.length > 1
              ? mergeParts(parts, (p, signal) => pool.train(p, { ...hooks, signal }))
              : pool.train(runs, hooks);
        } else {
          backend = await initBackend(options.backend);
          iterator = trainEnsemble(runs, { onSteps: options.onSteps, engine: options.engine });
        }
        for await (const ev of iterator) {
          if (cancelled) return;
          // The next event is not asked for (and a worker stops after a few unacknowledged ones) until the consumers catch up.
          const wait = options.flow?.ready();
          if (wait) await wait;
          if (cancelled) return;
          if (ev.type === 'diverged') {
            status[ev.index].diverged = ev.step;
            continue;
          }
          engine = ev.engine;
          for (const m of ev.members) {
            const run = runs[m.index];
            Object.assign(status[m.index], {
              loss: m.loss,
              accuracy: m.accuracy,
              step: ev.step,
              maxParamChange: m.maxParamChange,
              stoppedEpoch: m.stoppedEpoch,
              final: ev.final,
            });
            const snapshot: WeightSnapshot = {
              kind: 'snapshot',
              run_id: run.run_id,
              ensemble_id: run.ensemble_id,
              step: ev.step,
              epoch: ev.epoch,
              loss: m.loss,
              accuracy: m.accuracy,
              params: m.params,
              run,
              ensemble_size: ev.members.length,
              final: ev.final,
            };
            subscriber.next(snapshot);
          }
        }
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      if (cancelled) return;
      // A run that neither diverged nor reached its final checkpoint lost events: never a 'completed' run.
      const unfinished = status.filter((s) => s.diverged === null && !s.final).length;
      if (!error && unfinished)
        error = `training ended without the final checkpoint of ${unfinished} of ${runs.length} networks (an internal error)`;
      const wall = (performance.now() - started) / 1000;
      runs.forEach((run, i) => {
        const s = status[i];
        const record: RunRecord = {
          kind: 'run',
          run,
          backend,
          engine,
          wall_time_s: wall,
          status: s.diverged !== null ? 'diverged' : error ? 'failed' : 'completed',
          diverged_step: s.diverged,
          error: s.diverged !== null ? null : error,
          steps: s.diverged ?? s.step,
          final_loss: s.loss,
          final_accuracy: s.accuracy,
          stop_epoch: s.stoppedEpoch,
          ...convergence(s.diverged === null && !error ? s.maxParamChange : null, run.training),
        };
        subscriber.next(record);
      });
      subscriber.complete();
    })();
    return () => {
      cancelled = true;
      void iterator?.return(undefined);
    };
  });
}

/**
 * Train every `RunSpec` in the stream (see the module comment for grouping, diverged and failed
 * runs). Ensembles train one after another; records of other kinds pass through in order.
 */
export function train(options: TrainOptions = {}): OperatorFunction<StreamRecord, StreamRecord> {
  const max = options.maxEnsemble ?? Infinity;
  const shared = options.pool ?? null;
  const workers = shared
    ? shared.size
    : requireNumber('workers', options.workers ?? 1, { integer: true, min: 1, max: 64 });
  // Split ensembles train one at a time, each over every worker. Read when the stream starts:
  // runPipeline decides it once it knows which runs are left to train.
  const concurrent = () => (options.split ? 1 : workers);
  if (shared && workers > 1) {
    return (source) =>
      defer(() =>
        source.pipe(
          groupEnsembles(max, options.ensemble ?? true),
          mergeMap(
            (item) => (Array.isArray(item) ? defer(() => trainGroup(item, options, shared)) : of(item)),
            concurrent(),
          ),
        ),
      );
  }
  if (workers === 1) {
    return (source) =>
      source.pipe(
        groupEnsembles(max, options.ensemble ?? true),
        concatMap((item) => (Array.isArray(item) ? defer(() => trainGroup(item, options)) : of(item))),
      );
  }
  return (source) =>
    defer(() => {
      const pool = new WorkerPool(workers, options.backend, options.engine);
      return source.pipe(
        groupEnsembles(max, options.ensemble ?? true),
        mergeMap(
          (item) => (Array.isArray(item) ? defer(() => trainGroup(item, options, pool)) : of(item)),
          concurrent(),
        ),
        finalize(() => {
          void pool.close();
        }),
      );
    });
}

/** Convenience: train a list of runs (e.g. from `sweepRuns`). */
export function trainRuns(runs: RunSpec[], options: TrainOptions = {}): Observable<StreamRecord> {
  return from(runs).pipe(train(options));
}

/**
 * max_param_change and the rule that says whether training had settled (RunRecord.converged):
 * the largest parameter change over the last epoch trained at most the early-stop threshold, or,
 * without one, 0.01·lr (the paper's 1e-5 at lr 1e-3).
 */
function convergence(
  change: number | null,
  training: TrainingConfig,
): Pick<RunRecord, 'max_param_change' | 'converged'> {
  const threshold = training.stop?.maxParamChange ?? 0.01 * training.lr;
  return { max_param_change: change, converged: change === null ? null : change <= threshold };
}

/** An ensemble's runs in at most `n` contiguous parts whose sizes differ by at most one. */
export function splitEnsemble<T>(runs: T[], n: number): T[][] {
  const parts = Math.min(n, runs.length);
  const out: T[][] = [];
  for (let i = 0, start = 0; i < parts; i++) {
    const size = Math.floor(runs.length / parts) + (i < runs.length % parts ? 1 : 0);
    out.push(runs.slice(start, start + size));
    start += size;
  }
  return out;
}

/**
 * The events of an ensemble trained in parts, as one training of the whole would emit them: at
 * each checkpoint step, one event with every part's members (their indices into the whole
 * ensemble, in order); a part's diverged events with its members' indices. The parts train the
 * same schedule, so their checkpoints come at the same steps; a part whose networks have all
 * diverged emits no more. When one part fails, or the consumer stops, `signal` ends the others at
 * once (`start` passes it to `WorkerPool.train`).
 */
export async function* mergeParts<R>(
  parts: R[][],
  start: (part: R[], signal: AbortSignal) => AsyncGenerator<TrainEvent>,
): AsyncGenerator<TrainEvent> {
  const offsets = parts.map((_, i) => parts.slice(0, i).reduce((n, p) => n + p.length, 0));
  const stop = new AbortController();
  const iterators = parts.map((p) => start(p, stop.signal));
  const active = new Set(iterators.keys());
  try {
    while (active.size) {
      // The next checkpoint of every part still training (its diverged events passed on first).
      const round = await Promise.all(
        [...active].map(async (i) => {
          const diverged: TrainEvent[] = [];
          for (;;) {
            const r = await iterators[i].next();
            if (r.done) return { i, diverged, checkpoint: null };
            const ev = r.value;
            if (ev.type === 'diverged') diverged.push({ ...ev, index: ev.index + offsets[i] });
            else return { i, diverged, checkpoint: ev };
          }
        }),
      );
      for (const r of round) yield* r.diverged;
      const checkpoints = round.filter((r) => r.checkpoint);
      for (const r of round) if (!r.checkpoint) active.delete(r.i);
      if (!checkpoints.length) continue;
      const first = checkpoints[0].checkpoint!;
      if (checkpoints.some((r) => r.checkpoint!.step !== first.step))
        throw new Error(
          `mergeParts: parts of one ensemble at different checkpoints (${checkpoints.map((r) => r.checkpoint!.step)})`,
        );
      yield {
        ...first,
        final: checkpoints.some((r) => r.checkpoint!.final),
        members: checkpoints.flatMap((r) =>
          r.checkpoint!.members.map((m) => ({ ...m, index: m.index + offsets[r.i] })),
        ),
      };
    }
  } finally {
    stop.abort();
    await Promise.allSettled(iterators.map((it) => it.return(undefined)));
  }
}

/**
 * Whether splitting ensembles keeps more of `workers` busy than training whole ones side by side:
 * split, one ensemble at a time, uses min(smallest ensemble, workers) of them; whole, min(ensembles,
 * workers). `sizes` are the ensembles' network counts.
 */
export function splitPays(sizes: number[], workers: number): boolean {
  if (!sizes.length || workers < 2) return false;
  return Math.min(Math.min(...sizes), workers) > Math.min(sizes.length, workers);
}
