/**
 * What a results folder holds, as the figures need it: the grid coordinates that vary across its
 * runs (from runs.parquet), the metric families it has, and SQL pieces shared by the figures.
 */
import type { ResultsSession } from '../results.js';

/** A runs.parquet column whose value differs between the folder's runs: a swept coordinate. */
export interface Coordinate {
  name: string;
  numeric: boolean;
  values: Array<number | string>;
}

/**
 * One metric family of the metrics table (a figure panel): metric, against, classifier, the kind
 * of its dichotomies and layer. Values of one family are averaged over its dichotomies within a
 * run; the kinds are never mixed (decoding the trained target is not decoding a latent).
 */
export interface MetricKey {
  metric: string;
  against: string | null;
  classifier: string | null;
  /** 'target' (target0, …), 'latent' (latent0, …), 'other' (e.g. 0+3 of dichotomies: 'all'), or null. */
  dichotomies: 'target' | 'latent' | 'other' | null;
  layer: number;
  /** Distinct checkpoints at which it was computed (1: a final-only metric such as CCGP). */
  steps: number;
  /** Whether the rows carry a dichotomy (PS, CCGP, decodability: one value per target). */
  perDichotomy: boolean;
}

export interface DatasetView {
  views: ReadonlySet<string>;
  /** Varying coordinates, activation excluded (it is the colour of every figure). */
  coordinates: Coordinate[];
  activations: string[];
  metrics: MetricKey[];
}

/**
 * Columns of runs.parquet that are not grid coordinates: identities, seeds (spread, not swept),
 * outcomes, and the activation's parts (its label `activation` carries them).
 */
const NOT_COORDINATES = new Set([
  'run_id',
  'ensemble_id',
  'pipeline',
  'source',
  'source_path',
  'seed',
  'data_seed',
  'task_seed',
  'task_id',
  'replicate',
  'backend',
  'engine',
  'status',
  'diverged_step',
  'error',
  'steps',
  'final_loss',
  'final_accuracy',
  'max_param_change',
  'converged',
  'stop_epoch',
  'wall_time_s',
  'activation',
  'activation_name',
  'activation_params',
]);

/** Preferred x axis of the sweep figure, in this order; then any other numeric coordinate. */
const X_PREFERENCE = [
  'alignment',
  'fraction',
  'eps',
  'sigma',
  'width',
  'depth',
  'lr',
  'd',
  'k',
  'P',
  'N',
  'samples',
  'epochs',
];

/** Quoted SQL identifier. */
export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
/** SQL string literal. */
export const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
/** SQL literal of a nullable string (for IS NOT DISTINCT FROM). */
export const litOrNull = (s: string | null) => (s === null ? 'NULL' : lit(s));

/** The label of a metric family: 'kernel_alignment · target', 'ps', 'decodability · latents · ridge', 'loss · layer 2'. */
export function metricLabel(k: Pick<MetricKey, 'metric' | 'against' | 'layer'> & Partial<MetricKey>): string {
  const kind = k.dichotomies === 'latent' ? 'latents' : k.dichotomies === 'other' ? 'all dichotomies' : null;
  return [k.metric, k.against, kind, k.classifier ?? null, k.layer > 1 ? `layer ${k.layer}` : null]
    .filter((v) => v !== null)
    .join(' · ');
}

/** SQL of the kind of a metrics row's dichotomy (see MetricKey.dichotomies). */
export const DICHOTOMY_KIND = `CASE WHEN dichotomy IS NULL THEN NULL WHEN dichotomy LIKE 'target%' THEN 'target'
  WHEN dichotomy LIKE 'latent%' THEN 'latent' ELSE 'other' END`;

/** The metrics rows of one family, averaged over dichotomies within a run and step (scope 'run'). */
export function familyValues(k: MetricKey, steps: 'all' | 'final'): string {
  const last = steps === 'final' ? 'JOIN runs r USING (run_id) WHERE m.step = r.steps AND' : 'WHERE';
  return `SELECT m.run_id, m.step, avg(m.value) AS value FROM metrics m ${last} m.scope = 'run'
    AND m.metric = ${lit(k.metric)} AND m.against IS NOT DISTINCT FROM ${litOrNull(k.against)}
    AND m.classifier IS NOT DISTINCT FROM ${litOrNull(k.classifier)}
    AND (${DICHOTOMY_KIND.replaceAll('dichotomy', 'm.dichotomy')}) IS NOT DISTINCT FROM ${litOrNull(k.dichotomies)}
    AND m.layer = ${k.layer} AND isfinite(m.value) GROUP BY ALL`;
}

const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number));

/** Read the folder's coordinates, activations and metric families. */
export async function describeDataset(session: ResultsSession): Promise<DatasetView> {
  const views = session.views;
  const coordinates: Coordinate[] = [];
  let activations: string[] = [];
  if (views.has('runs')) {
    const columns = (await session.query('DESCRIBE runs')).rows.map((r) => ({
      name: String(r.column_name),
      numeric: /INT|DOUBLE|FLOAT|DECIMAL|REAL/.test(String(r.column_type)),
    }));
    // The grid's own coordinates are the names in the ensemble ids ('d=3,fraction=0.5,activation=tanh'):
    // columns computed from them (alignment = fraction·c_max, P = 2^d) are not coordinates of their own.
    const ids = (await session.query('SELECT DISTINCT ensemble_id AS id FROM runs')).rows.map((r) => String(r.id));
    const gridKeys = ids.every((id) => id.includes('='))
      ? new Set(ids.flatMap((id) => id.split(',').map((kv) => kv.slice(0, kv.indexOf('=')))))
      : null;
    for (const c of columns) {
      if (NOT_COORDINATES.has(c.name) || (gridKeys && !gridKeys.has(c.name))) continue;
      const values = (
        await session.query(`SELECT DISTINCT ${ident(c.name)} AS v FROM runs WHERE v IS NOT NULL ORDER BY v`)
      ).rows.map((r) => (c.numeric ? num(r.v) : String(r.v)));
      if (values.length > 1) coordinates.push({ ...c, values });
    }
    activations = (
      await session.query(
        `SELECT a FROM (SELECT coalesce(activation, 'network') AS a, row_number() OVER () AS i FROM runs)
         GROUP BY a ORDER BY min(i)`,
      )
    ).rows.map((r) => String(r.a));
  }
  coordinates.sort((a, b) => rank(a.name) - rank(b.name));
  const metrics: MetricKey[] = views.has('metrics')
    ? (
        await session.query(`SELECT metric, against, classifier, ${DICHOTOMY_KIND} AS kind, layer,
             count(DISTINCT step) AS steps, bool_or(dichotomy IS NOT NULL) AS per_dichotomy
           FROM metrics WHERE scope = 'run' GROUP BY ALL ORDER BY metric, against, classifier, kind, layer`)
      ).rows.map((r) => ({
        metric: String(r.metric),
        against: r.against === null ? null : String(r.against),
        classifier: r.classifier === null ? null : String(r.classifier),
        dichotomies: r.kind === null ? null : (String(r.kind) as MetricKey['dichotomies']),
        layer: num(r.layer),
        steps: num(r.steps),
        perDichotomy: Boolean(r.per_dichotomy),
      }))
    : [];
  return { views, coordinates, activations, metrics };
}

function rank(name: string): number {
  const i = X_PREFERENCE.indexOf(name);
  return i < 0 ? X_PREFERENCE.length : i;
}

/**
 * SQL of the label of the coordinates other than `except` for a run `r` ('alignment=0.25, width=64'),
 * or the constant 'all runs' when there are none: the facet of a figure.
 */
export function groupLabel(coordinates: Coordinate[], except: string[] = []): string {
  const rest = coordinates.filter((c) => !except.includes(c.name));
  if (!rest.length) return "'all runs'";
  return `concat_ws(', ', ${rest.map((c) => `${lit(`${c.name}=`)} || CAST(r.${ident(c.name)} AS VARCHAR)`).join(', ')})`;
}

/** SQL of the mean, sample sd (0 for one seed) and count over seeds of `value`: `mean, sd, n`. */
export const seedStats = (value: string) =>
  `avg(${value}) AS mean, coalesce(stddev_samp(${value}), 0) AS sd, count(*)::INTEGER AS n`;

/** Rows of `seedStats` with the ± one sd band of the figures: `lo`, `hi`. */
export function withBand<R extends Record<string, unknown>>(rows: R[]): Array<R & { lo: number; hi: number }> {
  return rows.map((r) => ({
    ...r,
    lo: (r.mean as number) - (r.sd as number),
    hi: (r.mean as number) + (r.sd as number),
  }));
}

/** A file-name-safe figure id: `prefix-label` with every run of other characters a '-'. */
export const figureId = (prefix: string, label: string) => `${prefix}-${label.replaceAll(/[^A-Za-z0-9]+/g, '-')}`;

/**
 * SQL of a neurons row `n`'s intra-class share |intra| / (|inter| + |intra|) (`intra` is the norm
 * of the whole intra-class projection, as the weight-dynamics summary uses it).
 */
export const INTRA_SHARE = 'abs(n.intra) / nullif(abs(n.inter) + abs(n.intra), 0)';

/** SQL of the activation label of a run `r` (the colour of every figure). */
export const ACTIVATION = "coalesce(r.activation, 'network')";
