/**
 * Seed-level bootstrap confidence intervals as DuckDB macros, registered by `queryResults` for
 * every results folder, so that a pipeline's `summary.sql` (and the report) can put an interval
 * next to a mean over seeds. Percentile bootstrap (Efron & Tibshirani 1993, "An Introduction to
 * the Bootstrap", §13.3): draw B resamples of the per-seed values with replacement, compute the
 * statistic on each, and take the B·α-th and B·(1 − α)-th of the sorted replications as the
 * bounds, α = (1 − level) / 2.
 *
 * Deterministic: resample r's i-th draw from a group of n values is its value number
 * 1 + hash(seed, r, group, i) mod n (DuckDB's `hash()`, not `random()`), over the values sorted,
 * so the same values give the same interval whatever order the query lists them in (for one
 * DuckDB version: `hash()` is not promised across versions). NULL values are dropped; a group
 * without values gives NULL bounds.
 *
 * With few seeds a percentile interval is narrower than its level says: it uses the plug-in
 * variance (n − 1)/n · s² and normal rather than t quantiles. For normal data a nominal 0.95
 * interval of a difference covers the true one about 0.86 of the time at 5 seeds per group and 0.91
 * at 10 (test/bootstrap.test.ts).
 */

/**
 * Bootstrap resamples unless a call says otherwise. E&T advise at least 1000 for percentile
 * intervals; with 2000 each bound's Monte Carlo error is about 0.06 standard errors of the mean.
 */
export const BOOTSTRAP_RESAMPLES = 2000;

/**
 * `body` with `name` bound to the value of `value`, evaluated once: DuckDB has no LET, and a macro
 * that is one expression (no subquery) can take aggregates as arguments, e.g. `list(value)`.
 */
const bind = (name: string, value: string, body: string) => `list_transform([${value}], lambda ${name}: ${body})[1]`;

/** The values of `list` without NULLs, sorted, as DOUBLE. */
const clean = (list: string) =>
  `list_sort([v FOR v IN coalesce(CAST(${list} AS DOUBLE[]), []::DOUBLE[]) IF v IS NOT NULL])`;

/**
 * The mean of resample `r` of the cleaned list `x`, its draws tagged `g` (one tag per group). (The
 * modulus is UBIGINT like the hash: a BIGINT one makes DuckDB compute in HUGEINT, 20× slower.)
 */
const resampledMean = (x: string, g: number) =>
  `list_avg([${x}[(1 + hash(seed, r, ${g}, i) % len(${x})::UBIGINT)::BIGINT] FOR i IN range(len(${x}))])`;

/**
 * The number of resamples, once the options are checked (an error reads as the project's do:
 * field: received …; accepted: …).
 */
const checked = (name: string) => `
  CASE WHEN NOT (level > 0 AND level < 1)
       THEN error(printf('${name} level: received %s; accepted: a number > 0 and < 1', level::VARCHAR))
       WHEN NOT (resamples >= 20 AND resamples = floor(resamples))
       THEN error(printf('${name} resamples: received %s; accepted: an integer >= 20', resamples::VARCHAR))
       ELSE resamples::BIGINT END`;

/** The {lo, hi} bounds of the sorted replications `t`: the B·α-th and B·(1 − α)-th. */
const bounds = `{'lo': t[greatest(1, round(len(t) * (1 - level) / 2))::BIGINT],
                 'hi': t[round(len(t) * (1 + level) / 2)::BIGINT]}`;

/** The bounds of `replication` (an expression of resample number `r`) over the checked number of resamples. */
const interval = (name: string, replication: string) =>
  bind('t', `list_sort([${replication} FOR r IN range(${checked(name)})])`, bounds);

/**
 * The macros, as `CREATE MACRO` statements:
 *
 * - `bootstrap_ci(x, level := 0.95, resamples := BOOTSTRAP_RESAMPLES, seed := 0)` → STRUCT(lo, hi): the percentile
 *   interval of the mean of the list `x` (one value per seed), the values resampled with
 *   replacement.
 * - `bootstrap_diff_ci(a, b, level, resamples, seed)` (the same defaults) → STRUCT(lo, hi): the
 *   percentile interval of mean(a) − mean(b) for two independent groups of seeds, each group
 *   resampled with replacement on its own (the two-sample bootstrap, E&T §8.3).
 *
 * e.g. `bootstrap_diff_ci(list(value) FILTER (WHERE activation = 'tanh'),
 * list(value) FILTER (WHERE activation = 'relu')).lo > 0`: tanh above relu at 95 %.
 */
export const BOOTSTRAP_MACROS = [
  `CREATE MACRO bootstrap_ci(x, level := 0.95, resamples := ${BOOTSTRAP_RESAMPLES}, seed := 0) AS
    ${bind('x', clean('x'), interval('bootstrap_ci', resampledMean('x', 0)))}`,
  `CREATE MACRO bootstrap_diff_ci(a, b, level := 0.95, resamples := ${BOOTSTRAP_RESAMPLES}, seed := 0) AS
    ${bind(
      'ab',
      `[${clean('a')}, ${clean('b')}]`,
      interval('bootstrap_diff_ci', `${resampledMean('ab[1]', 0)} - ${resampledMean('ab[2]', 1)}`),
    )}`,
];
