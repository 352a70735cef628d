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
import type { RunRecord, TrainedRunSpec as RunSpec, StreamRecord, WeightSnapshot } from '../types.js';
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
      step: 0,
    }));
    (async () => {
      let backend = 'unknown';
      let engine: string | null = null;
      let error: string | null = null;
      try {
        if (pool) {
          iterator = pool.train(runs, {
            onSteps: options.onSteps,
            onBackend: (b) => {
              backend = b;
            },
          });
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
          ...convergence(s.diverged === null && !error ? s.maxParamChange : null, run.training.lr),
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
  if (shared && workers > 1) {
    return (source) =>
      source.pipe(
        groupEnsembles(max, options.ensemble ?? true),
        mergeMap((item) => (Array.isArray(item) ? defer(() => trainGroup(item, options, shared)) : of(item)), workers),
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
        mergeMap((item) => (Array.isArray(item) ? defer(() => trainGroup(item, options, pool)) : of(item)), workers),
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

/** max_param_change and the rule that says whether training had settled (RunRecord.converged). */
function convergence(change: number | null, lr: number): Pick<RunRecord, 'max_param_change' | 'converged'> {
  return { max_param_change: change, converged: change === null ? null : change <= 0.01 * lr };
}
