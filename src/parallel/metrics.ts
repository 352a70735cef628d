/**
 * Metrics spread over worker threads. The metric functions themselves stay pure and synchronous
 * (src/metrics); this module only splits their independent parts over a `WorkerPool` and merges
 * the results, which are identical to the single-threaded call.
 */
import type { Matrix } from '../types.js';
import {
  labelledSamples,
  shatteringDimensionality,
  type ShatteringOptions,
  type ShatteringResult,
} from '../metrics/decoding.js';
import { balancedDichotomies, countBalancedDichotomies } from '../metrics/dichotomy.js';
import { POOLED_METRICS, type PooledMetric } from './jobs.js';
import type { WorkerPool } from './pool.js';

/** A pooled metric on the pool's workers when there is a pool, else in this thread; its result as a promise either way. */
export function pooled<K extends PooledMetric>(
  pool: WorkerPool | null | undefined,
  name: K,
  ...args: Parameters<(typeof POOLED_METRICS)[K]>
): Promise<ReturnType<(typeof POOLED_METRICS)[K]>> {
  if (pool) return pool.metric(name, ...args);
  const fn = POOLED_METRICS[name] as (...a: unknown[]) => ReturnType<(typeof POOLED_METRICS)[K]>;
  return Promise.resolve(fn(...args));
}

/**
 * The same matrix with its data in a SharedArrayBuffer: passed to the pool's workers it is shared,
 * not copied (a 5000 × 128 float64 sample matrix is 5 MB per job otherwise). Shared data is
 * returned as is.
 */
export function shareMatrix<M extends Matrix>(m: M): M {
  if (m.data.buffer instanceof SharedArrayBuffer) return m;
  const n = m.data.length;
  const data =
    m.data instanceof Float32Array
      ? new Float32Array(new SharedArrayBuffer(4 * n))
      : new Float64Array(new SharedArrayBuffer(8 * n));
  data.set(m.data);
  return { ...m, data };
}

/**
 * `shatteringDimensionality` with its dichotomies dealt round-robin to the pool's workers (each
 * dichotomy's cross-validation is independent of the others, so the accuracies are the same
 * numbers in the same order). Without a pool, or with one dichotomy, it runs in this thread.
 */
export async function shatteringDimensionalityParallel(
  samples: Matrix,
  conditions: ArrayLike<number>,
  options: ShatteringOptions,
  pool: WorkerPool | null,
): Promise<ShatteringResult> {
  const cond = Int32Array.from(conditions);
  if (!pool || pool.size < 2) return shatteringDimensionality(samples, cond, options);
  const d = labelledSamples(samples, cond);
  if (d.P % 2 || d.P < 2) return shatteringDimensionality(samples, cond, options); // rejects with the usual message
  const all = options.dichotomies ?? balancedDichotomies(d.P, options.maxDichotomies ?? 100, options.seed ?? 0);
  if (all.length < 2) return shatteringDimensionality(samples, cond, { ...options, dichotomies: all });
  const parts = Array.from({ length: Math.min(pool.size, all.length) }, (_, w) =>
    all.filter((_d, i) => i % pool.size === w),
  );
  const shared = shareMatrix(samples);
  const results = await Promise.all(
    parts.map((dichotomies) => pool.metric('shatteringDimensionality', shared, cond, { ...options, dichotomies })),
  );
  const accuracies = all.map((_d, i) => results[i % pool.size].accuracies[Math.floor(i / pool.size)]);
  return {
    value: accuracies.reduce((s, v) => s + v, 0) / accuracies.length,
    classifier: results[0].classifier,
    folds: results[0].folds,
    dichotomies: all,
    accuracies,
    exhaustive: all.length === countBalancedDichotomies(d.P),
    fits: results.reduce((c, r) => ({ fits: c.fits + r.fits.fits, unconverged: c.unconverged + r.fits.unconverged }), {
      fits: 0,
      unconverged: 0,
    }),
  };
}
