/**
 * The metric functions a `WorkerPool` can run (`pool.metric(name, ...args)`): the decoding metrics,
 * whose classifier fits dominate the cost of a checkpoint's metric set. Arguments and results
 * cross threads by structured clone, so they are plain data (typed arrays, objects, numbers).
 */
import { ccgp, decodability, shatteringDimensionality } from '../metrics/decoding.js';
import type { WorkerPool } from './pool.js';

export const POOLED_METRICS = { ccgp, decodability, shatteringDimensionality } as const;
export type PooledMetric = keyof typeof POOLED_METRICS;

/** A pooled metric on the pool's workers when there is a pool, else in this thread; its result as a promise either way. */
export function pooled<K extends PooledMetric>(pool: WorkerPool | null | undefined, name: K, ...args: Parameters<(typeof POOLED_METRICS)[K]>): Promise<ReturnType<(typeof POOLED_METRICS)[K]>> {
  if (pool) return pool.metric(name, ...args);
  const fn = POOLED_METRICS[name] as (...a: unknown[]) => ReturnType<(typeof POOLED_METRICS)[K]>;
  return Promise.resolve(fn(...args));
}
