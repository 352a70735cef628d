/**
 * What a `WorkerPool` can be asked to do, and the messages between it and its workers: the one
 * registry both sides import (pool.ts in the main thread, worker.ts in the workers).
 *
 * The pooled metric functions are the decoding metrics, whose classifier fits dominate the cost
 * of a checkpoint's metric set. Arguments and results cross threads by structured clone, so they
 * are plain data (typed arrays, objects, numbers).
 */
import { ccgp, decodability, shatteringDimensionality } from '../metrics/decoding.js';
import type { TrainEvent } from '../engine/training.js';
import type { PortableRun } from './portable.js';
import type { PortableError } from '../errors.js';

export const POOLED_METRICS = { ccgp, decodability, shatteringDimensionality } as const;
export type PooledMetric = keyof typeof POOLED_METRICS;

/** Main thread → worker. */
export type JobMessage =
  | { type: 'train'; id: number; runs: PortableRun[] }
  | { type: 'metric'; id: number; name: PooledMetric; args: unknown[] }
  /** The main thread has taken one more event of training job `id` (see EVENTS_IN_FLIGHT). */
  | { type: 'ack'; id: number };

/**
 * Training events a worker posts before it waits for the main thread to take them: the bounded
 * buffer that makes a worker wait for a slow pipeline (backpressure) instead of piling up events.
 */
export const EVENTS_IN_FLIGHT = 4;

/** Worker → main thread. */
export type ReplyMessage =
  | { type: 'backend'; id: number; backend: string }
  | { type: 'steps'; id: number; n: number }
  | { type: 'event'; id: number; event: TrainEvent }
  | { type: 'done'; id: number }
  | { type: 'result'; id: number; value: unknown }
  | ({ type: 'error'; id: number } & PortableError);
