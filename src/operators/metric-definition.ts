/**
 * How a geometry metric is declared: its options, each with its check and its default, what it
 * needs, and how it computes its values. Each default is stated once: in the declaration for the
 * operator's own options (`against`, `dichotomies`, `classifier`, `scheme`, `on`), and in the metric
 * function for the options passed on to it (`folds`, `threshold`, `rdm`, …: `undefined` here). `defineMetric` keeps the
 * option types, so `MetricRequest` (geometry-metrics.ts) is a discriminated union on `name` whose
 * options TypeScript checks, and the operator validates the same options at run time for callers
 * without types (the CLI, JavaScript).
 */
import { ConfigError, requireNumber, requireOneOf } from '../errors.js';
import type { Representation } from '../types.js';
import type { WorkerPool } from '../parallel/pool.js';
import type { NullTest } from '../metrics/nulls.js';

/** One computed number with its coordinates, before the operator adds run, step and scope. */
export interface MetricValue {
  metric: string;
  against?: string | null;
  dichotomy?: string | null;
  classifier?: string | null;
  value: number;
  /** For values from classifier fits: did every fit converge (MetricRow.fits_converged). */
  fits_converged?: boolean | null;
  /** With the metric's `null` option: its permutation test (MetricRow.null_*, p_value). */
  null?: NullTest & { model: string };
}

/** One option: `check` throws a ConfigError naming the field, else returns the value; `default` when not given. */
export interface MetricOption<T> {
  check: (field: string, v: unknown) => T;
  default: T;
}

/** The options a metric's functions receive: every option present, defaults filled in. */
export type ResolvedOptions<O> = { [K in keyof O]: O[K] extends MetricOption<infer T> ? T : never };

/** What a metric needs besides the condition means: the task's input means, noisy samples. */
export interface MetricNeeds {
  inputs?: boolean;
  samples?: boolean;
}

/** A metric the geometry operator hosts, with options O (see `defineMetric`). */
export interface GeometryMetric<
  O extends Record<string, MetricOption<unknown>> = Record<string, MetricOption<unknown>>,
> {
  options: O;
  /** True for the decoding metrics, whose classifier fits run on the operator's worker pool when it has one. */
  pooled?: boolean;
  /** What it needs with these options; checked before any work (`checkMetricNeeds`). */
  needs?(options: ResolvedOptions<O>): MetricNeeds;
  /**
   * Values for one network's representation. With a worker pool, the decoding metrics run their
   * classifier fits on it and return a promise.
   */
  perRun?(
    rep: Representation,
    options: ResolvedOptions<O>,
    pool?: WorkerPool | null,
  ): MetricValue[] | Promise<MetricValue[]>;
  /** Values for the networks of one ensemble at one step (e.g. on the seed-averaged kernel). */
  perEnsemble?(reps: Representation[], options: ResolvedOptions<O>): MetricValue[];
}

/** Declare a metric; its option types flow into `MetricRequest` and into its functions' `options`. */
export function defineMetric<const O extends Record<string, MetricOption<unknown>>>(
  m: GeometryMetric<O>,
): GeometryMetric<O> {
  return m;
}

/** The request for metric `name` with options O: its name alone, or `{ name, steps?, ...options }`. */
export type RequestFor<Name extends string, O> =
  | Name
  | ({ name: Name; steps?: 'all' | 'final' } & { [K in keyof O]?: O[K] extends MetricOption<infer T> ? T : never });

/** An option that is one of `values`; without a fallback, `undefined` leaves the metric function's own default. */
export function oneOf<const T extends string>(values: readonly T[], fallback: T): MetricOption<T>;
export function oneOf<const T extends string>(values: readonly T[]): MetricOption<T | undefined>;
export function oneOf<const T extends string>(values: readonly T[], fallback?: T): MetricOption<T | undefined> {
  return {
    check: (f, v) => requireOneOf(f, v, values),
    default: fallback,
  };
}

/** An optional integer >= min; `undefined` leaves the metric function's own default. */
export function integerAtLeast(min: number): MetricOption<number | undefined> {
  return {
    check: (f, v) => requireNumber(f, v, { integer: true, min }),
    default: undefined,
  };
}

/** An optional finite number (> min when `exclusiveMin`); `undefined` leaves the metric function's own default. */
export function finiteNumber(range: { min?: number; exclusiveMin?: boolean } = {}): MetricOption<number | undefined> {
  return { check: (f, v) => requireNumber(f, v, range), default: undefined };
}

/** An optional true or false; `undefined` leaves the metric function's own default. */
export function flag(): MetricOption<boolean | undefined> {
  return {
    check: (f, v) => {
      if (typeof v !== 'boolean') throw new ConfigError(f, v, 'true or false');
      return v;
    },
    default: undefined,
  };
}
