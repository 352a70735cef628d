/**
 * `geometry()`: Representation → MetricRow… (long format). Hosts every metric of
 * `GEOMETRY_METRICS`; per network (`scope = 'run'`) and, for metrics that define it, per ensemble
 * and step (`scope = 'ensemble'`, `run_id` = the ensemble id), once all of the ensemble's
 * representations for that step have arrived.
 */
import type { OperatorFunction } from 'rxjs';
import type { MetricRow, Representation, StreamRecord } from '../types.js';
import { ConfigError } from '../errors.js';
import { mapKind } from './records.js';
import { GEOMETRY_METRICS, type MetricValue } from './geometry-metrics.js';

/** A metric by name, or with options: `{ name: 'kernel_alignment' }`. */
export type MetricRequest = string | ({ name: string } & Record<string, unknown>);

export interface GeometryOptions {
  /** Metrics to compute (default ['kernel_alignment']); 'training' (loss and accuracy rows) is always added. */
  metrics?: MetricRequest[];
  /** Also compute ensemble-level values (on seed-averaged kernels) where a metric defines them. Default true. */
  ensemble?: boolean;
}

function resolve(requests: MetricRequest[]) {
  const names = Object.keys(GEOMETRY_METRICS);
  const out = new Map<string, Record<string, unknown>>();
  for (const [i, r] of requests.entries()) {
    const { name, ...opts } = typeof r === 'string' ? { name: r } : r;
    const m = GEOMETRY_METRICS[name];
    if (!m) throw new ConfigError(`metrics[${i}]`, name, names.map((n) => `'${n}'`).join(', '));
    for (const k of Object.keys(opts)) {
      if (!m.options.includes(k)) {
        throw new ConfigError(`metrics[${i}].${k}`, opts[k], m.options.length ? `the options ${m.options.join(', ')}` : `no options for '${name}'`);
      }
    }
    out.set(name, opts);
  }
  out.set('training', {});
  return out;
}

function row(rep: Representation, scope: MetricRow['scope'], v: MetricValue): MetricRow {
  return {
    kind: 'metric', run_id: scope === 'run' ? rep.run_id : rep.ensemble_id, ensemble_id: rep.ensemble_id, scope,
    step: rep.step, epoch: rep.epoch, loss: rep.loss, layer: rep.layer, metric: v.metric,
    against: v.against ?? null, dichotomy: v.dichotomy ?? null, classifier: v.classifier ?? null, value: v.value,
  };
}

/** Compute the requested metrics for every `Representation`; other records pass through. */
export function geometry(options: GeometryOptions = {}): OperatorFunction<StreamRecord, StreamRecord> {
  const metrics = resolve(options.metrics ?? ['kernel_alignment']);
  const withEnsemble = options.ensemble ?? true;
  const pending = new Map<string, Representation[]>();
  return mapKind('representation', (rep) => {
    const rows: MetricRow[] = [];
    for (const [name, opts] of metrics) {
      const m = GEOMETRY_METRICS[name];
      if (m.perRun) for (const v of m.perRun(rep, opts)) rows.push(row(rep, 'run', v));
    }
    if (withEnsemble && rep.ensemble_size > 1) {
      const key = `${rep.ensemble_id}\u0000${rep.step}`;
      const group = pending.get(key) ?? [];
      group.push(rep);
      pending.set(key, group);
      if (group.length === rep.ensemble_size) {
        pending.delete(key);
        // The ensemble row's loss is the members' mean loss.
        const mean = { ...rep, loss: group.reduce((s, r) => s + r.loss, 0) / group.length };
        for (const [name, opts] of metrics) {
          const m = GEOMETRY_METRICS[name];
          if (m.perEnsemble) for (const v of m.perEnsemble(group, opts)) rows.push(row(mean, 'ensemble', v));
        }
      }
    }
    return rows;
  });
}
