/**
 * The null-model workload of `geomstream bench`: what a metric's `null: { model, samples }` option
 * costs. Each metric runs through `geometry` on one representation (the default pipeline's probe:
 * 8 conditions, 128 units, 50 noisy samples each), alone and with its null, alternating; the ratio
 * of the two times is the price of the p-value. The decoding metrics' null draws are classifier
 * fits like the value's own, spread over the pool's workers when there is one.
 */
import { lastValueFrom, of, toArray } from 'rxjs';
import { geometry, type MetricRequest } from '../operators/geometry.js';
import type { NullModel } from '../operators/geometry-metrics.js';
import type { WorkerPool } from '../parallel/pool.js';
import { alignedParity } from '../sources/aligned-parity.js';
import { sweepRuns } from '../sources/sweep.js';
import type { Representation } from '../types.js';
import { metricsProblem, type NullsWorkload } from './workloads.js';

/** The metrics timed, each with the null model it is tested against (the default pipeline's classifiers). */
export const NULL_BENCH_METRICS: Array<{ label: string; request: Exclude<MetricRequest, string>; model: NullModel }> = [
  { label: 'kernel_alignment', request: { name: 'kernel_alignment' }, model: 'permutation' },
  { label: 'rsa', request: { name: 'rsa' }, model: 'permutation' },
  { label: 'ps', request: { name: 'ps' }, model: 'shuffle' },
  { label: 'ccgp (svm)', request: { name: 'ccgp', classifier: 'svm' }, model: 'geometric' },
  { label: 'ccgp (svm)', request: { name: 'ccgp', classifier: 'svm' }, model: 'shuffle' },
  { label: 'decodability (svm)', request: { name: 'decodability', classifier: 'svm' }, model: 'shuffle' },
  { label: 'sd (ridge)', request: { name: 'sd', classifier: 'ridge' }, model: 'shuffle' },
];

/** The workload's representation: the metrics problem's activity, on an aligned-parity task of as many conditions. */
export function nullsRepresentation(w: NullsWorkload): Representation {
  const problem = metricsProblem({ ...w, kind: 'metrics', classifier: 'svm' });
  const bits = Math.log2(w.conditions);
  const [run] = sweepRuns({
    seed: 1,
    grid: { workload: [w.name] },
    run: (_p, s) => ({
      task: alignedParity({ d: bits, k: bits, alignment: 0.5, N: 100, sigma: 1, seed: s.task }),
      network: { activation: 'tanh', width: w.units },
      training: { lr: 0.1, epochs: 1 },
    }),
  });
  return {
    kind: 'representation',
    run_id: run.run_id,
    ensemble_id: run.ensemble_id,
    step: 0,
    epoch: 0,
    loss: null,
    accuracy: null,
    layer: 1,
    means: { rows: w.conditions, cols: w.units, data: Float64Array.from(problem.means.flat()) },
    samples: { activity: problem.samples, conditions: problem.conditions },
    run,
    ensemble_size: 1,
    final: true,
  };
}

/** Seconds for `geometry` to compute one metric request on `rep`. */
async function timed(rep: Representation, request: MetricRequest, pool: WorkerPool | null): Promise<number> {
  const t0 = performance.now();
  await lastValueFrom(of(rep).pipe(geometry({ metrics: [request], pool: pool ?? undefined }), toArray()));
  return (performance.now() - t0) / 1000;
}

/** Each metric once, untimed: the first fits compile the classifiers' kernels and start the pool's workers. */
export async function warmUpNulls(rep: Representation, pool: WorkerPool | null): Promise<void> {
  for (const m of NULL_BENCH_METRICS) await timed(rep, m.request, pool);
}

/** One repetition: each metric's time alone and with its null of `w.draws` draws. */
export async function runNulls(
  w: NullsWorkload,
  rep: Representation,
  pool: WorkerPool | null,
): Promise<Array<{ alone: number; withNull: number }>> {
  const out: Array<{ alone: number; withNull: number }> = [];
  for (const m of NULL_BENCH_METRICS) {
    const alone = await timed(rep, m.request, pool);
    const withNull = await timed(
      rep,
      { ...m.request, null: { model: m.model, samples: w.draws } } as MetricRequest,
      pool,
    );
    out.push({ alone, withNull });
  }
  return out;
}
