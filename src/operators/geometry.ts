/**
 * `geometry()`: Representation → MetricRow… (long format). Hosts every metric of
 * `GEOMETRY_METRICS`; per network (`scope = 'run'`) and, for metrics that define it, per ensemble
 * and step (`scope = 'ensemble'`, `run_id` = the ensemble id), once all of the ensemble's
 * representations for that step have arrived.
 */
import { defer, finalize, type OperatorFunction } from 'rxjs';
import type { ErrorRow, MetricRow, Representation, StreamRecord } from '../types.js';
import { ConfigError, requireNumber, requireOneOf } from '../errors.js';
import { WorkerPool } from '../parallel/pool.js';
import { shareMatrix } from '../parallel/metrics.js';
import { mapKindAsync } from './records.js';
import { GEOMETRY_METRICS, type MetricName, type MetricRequest } from './geometry-metrics.js';
import type { GeometryMetric, MetricValue } from './metric-definition.js';

export type { MetricRequest } from './geometry-metrics.js';

export interface GeometryOptions {
  /** Metrics to compute (default ['kernel_alignment']); 'training' (loss and accuracy rows) is always added. */
  metrics?: MetricRequest[];
  /** Also compute ensemble-level values (on seed-averaged kernels) where a metric defines them. Default true. */
  ensemble?: boolean;
  /**
   * Worker threads for the decoding metrics' classifier fits (ccgp, sd, decodability; SD split by
   * dichotomy). Default 1: everything in this thread. The numbers do not depend on it, and rows
   * keep their order.
   */
  workers?: number;
  /** A worker pool to use instead of one of this operator's own (see `TrainOptions.pool`); the caller closes it. */
  pool?: WorkerPool | null;
}

interface ResolvedMetric {
  name: MetricName;
  metric: GeometryMetric;
  /** Every option of the metric, given or its default. */
  options: Record<string, unknown>;
  finalOnly: boolean;
}

/**
 * Validate the requests (names and every option) before any work, and fill in each option's
 * default; 'training' is always added. Requests are typed, but the CLI and JavaScript callers
 * pass anything: every check runs here too.
 */
function resolve(requests: readonly MetricRequest[]): ResolvedMetric[] {
  if (!Array.isArray(requests))
    throw new ConfigError('metrics', requests, 'an array of metric names or { name, ...options }');
  const names = Object.keys(GEOMETRY_METRICS);
  const out: ResolvedMetric[] = [];
  for (const [i, r] of [...requests, 'training'].entries()) {
    const { name, steps, ...given } = (typeof r === 'string' ? { name: r } : r) as {
      name: string;
      steps?: unknown;
    } & Record<string, unknown>;
    if (!Object.hasOwn(GEOMETRY_METRICS, name))
      throw new ConfigError(`metrics[${i}]`, name, names.map((n) => `'${n}'`).join(', '));
    const metric = GEOMETRY_METRICS[name as MetricName] as unknown as GeometryMetric;
    if (name === 'training' && out.some((m) => m.name === 'training')) continue;
    const finalOnly = requireOneOf(`metrics[${i}].steps`, steps ?? 'all', ['all', 'final']) === 'final';
    const known = Object.keys(metric.options);
    for (const [k, v] of Object.entries(given)) {
      if (!Object.hasOwn(metric.options, k))
        throw new ConfigError(
          `metrics[${i}].${k}`,
          v,
          known.length ? `the options ${[...known, 'steps'].join(', ')}` : `only 'steps' for '${name}'`,
        );
    }
    const options = Object.fromEntries(
      known.map((k) => {
        const o = metric.options[k];
        return [k, given[k] === undefined ? o.default : o.check(`metrics[${i}].${k}`, given[k])];
      }),
    );
    out.push({ name: name as MetricName, metric, options, finalOnly });
  }
  return out;
}

/**
 * Check, before any work, that every requested metric has what it needs: the task's input means
 * (`has.inputs`: false for an external task given without inputs) and noisy samples
 * (`has.samples`). Throws a ConfigError naming the metric, what it needs, and how to proceed.
 */
export function checkMetricNeeds(requests: MetricRequest[], has: { inputs: boolean; samples: boolean }): void {
  for (const [i, m] of resolve(requests).entries()) {
    const needs = m.metric.needs?.(m.options) ?? {};
    if (needs.inputs && !has.inputs) {
      throw new ConfigError(
        `metrics[${i}]`,
        m.name,
        `metrics that do not compare with the task's inputs: the task has no input means (give them in the task file, or ask for { name: '${m.name}', against: 'target' })`,
      );
    }
    if (needs.samples && !has.samples) {
      throw new ConfigError(
        `metrics[${i}]`,
        m.name,
        `metrics that need no noisy samples: '${m.name}' cross-validates on samples of every condition (probe them with samplesPerCondition, or give several rows per condition)`,
      );
    }
  }
}

/**
 * The `MetricRow` of a value computed on a representation: its run, ensemble, step, epoch, loss
 * and layer from `rep`, the value's coordinates, and null for every column the value does not set
 * (for custom metrics: `metricRow(rep, { metric: 'my_metric', value })`).
 */
export function metricRow(rep: Representation, v: MetricValue, scope: MetricRow['scope'] = 'run'): MetricRow {
  return {
    kind: 'metric',
    run_id: scope === 'run' ? rep.run_id : rep.ensemble_id,
    ensemble_id: rep.ensemble_id,
    scope,
    step: rep.step,
    epoch: rep.epoch,
    loss: rep.loss,
    layer: rep.layer,
    metric: v.metric,
    against: v.against ?? null,
    dichotomy: v.dichotomy ?? null,
    classifier: v.classifier ?? null,
    value: v.value,
    fits_converged: v.fits_converged ?? null,
    null_model: v.null?.model ?? null,
    null_samples: v.null?.null_samples ?? null,
    null_mean: v.null?.null_mean ?? null,
    null_sd: v.null?.null_sd ?? null,
    p_value: v.null?.p_value ?? null,
  };
}

/** Compute the requested metrics for every `Representation`; other records pass through. */
export function geometry(options: GeometryOptions = {}): OperatorFunction<StreamRecord, StreamRecord> {
  const metrics = resolve(options.metrics ?? ['kernel_alignment']);
  const withEnsemble = options.ensemble ?? true;
  const workers = requireNumber('workers', options.workers ?? 1, { integer: true, min: 1, max: 64 });
  const decoding = metrics.some((m) => m.metric.pooled);
  if (decoding && options.pool) options.pool.fitsMetrics = true;
  return (source) =>
    defer(() => {
      // One pool per subscription, only when there is classifier work to spread.
      const own = !options.pool && workers > 1 && decoding ? new WorkerPool(workers) : null;
      const pool = decoding ? (options.pool ?? own) : null;
      const pending = new Map<string, Representation[]>();
      return source.pipe(
        mapKindAsync('representation', (rep) => metricRows(rep, pool, pending)),
        finalize(() => {
          void own?.close();
        }),
      );
    });

  /**
   * The rows of one representation: its per-run values (synchronous without a pool, a promise
   * with one) and, when it completes its ensemble's group, the ensemble values (synchronous, so
   * groups form in stream order whatever the pool's timing).
   */
  function metricRows(
    rep: Representation,
    pool: WorkerPool | null,
    pending: Map<string, Representation[]>,
  ): StreamRecord[] | Promise<StreamRecord[]> {
    const active = metrics.filter((m) => !m.finalOnly || rep.final);
    const ensembleRows: MetricRow[] = [];
    if (withEnsemble && rep.ensemble_size > 1) {
      const key = `${rep.ensemble_id}\u0000${rep.step}\u0000${rep.layer}`;
      const group = pending.get(key) ?? [];
      group.push(rep);
      pending.set(key, group);
      if (group.length === rep.ensemble_size) {
        pending.delete(key);
        // The ensemble row's loss is the members' mean loss.
        const mean = {
          ...rep,
          loss: group.some((r) => r.loss === null) ? null : group.reduce((s, r) => s + r.loss!, 0) / group.length,
        };
        for (const { metric, options: opts } of active) {
          if (metric.perEnsemble)
            for (const v of metric.perEnsemble(group, opts)) ensembleRows.push(metricRow(mean, v, 'ensemble'));
        }
      }
    }
    // The samples go to every pooled job of this representation: share them instead of copying.
    const shared =
      pool && rep.samples && active.some((m) => m.metric.pooled)
        ? { ...rep, samples: { ...rep.samples, activity: shareMatrix(rep.samples.activity) } }
        : rep;
    // For runs read from files, a metric that fails on one representation (a file with one row per
    // condition where samples are needed, say) is an error row, and the stream goes on; for trained
    // runs it is a bug or a bad configuration, and fails the pipeline as before.
    const errors: ErrorRow[] = [];
    const ingested = rep.run.source !== 'trained';
    const failed = (name: string, e: unknown): MetricValue[] => {
      errors.push({
        kind: 'error',
        path: rep.source_file ?? rep.run.source_path ?? rep.run_id,
        step: rep.step,
        error: `${name} (run ${rep.run_id}, layer ${rep.layer}): ${e instanceof Error ? e.message : String(e)}`,
      });
      return [];
    };
    const values = active.map(({ name, metric, options: opts }) => {
      if (!metric.perRun) return [];
      if (!ingested) return metric.perRun(shared, opts, pool);
      try {
        const v = metric.perRun(shared, opts, pool);
        return v instanceof Promise ? v.catch((e) => failed(name, e)) : v;
      } catch (e) {
        return failed(name, e);
      }
    });
    const assemble = (vs: MetricValue[][]): StreamRecord[] => [
      ...vs.flatMap((v) => v.map((x) => metricRow(rep, x, 'run'))),
      ...ensembleRows,
      ...errors,
    ];
    // Every metric of the representation at once (their fits share the pool), rows in request order.
    return values.some((v) => v instanceof Promise)
      ? Promise.all(values).then(assemble)
      : assemble(values as MetricValue[][]);
  }
}
