/**
 * The metric functions a `WorkerPool` can run (`pool.metric(name, ...args)`): the decoding metrics,
 * whose classifier fits dominate the cost of a checkpoint's metric set. Arguments and results
 * cross threads by structured clone, so they are plain data (typed arrays, objects, numbers).
 */
import { ccgp, decodability, shatteringDimensionality } from '../metrics/decoding.js';

export const POOLED_METRICS = { ccgp, decodability, shatteringDimensionality } as const;
export type PooledMetric = keyof typeof POOLED_METRICS;
