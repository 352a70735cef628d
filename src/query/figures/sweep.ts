/**
 * The sweep figure (the paper's Figure 2 for the default pipeline): each metric's final value
 * against the swept coordinate, one line per activation, mean ± sd over seeds as error bars;
 * kernel alignment with the input and with the target side by side.
 */
import type { ResultsSession } from '../results.js';
import {
  ACTIVATION,
  type DatasetView,
  familyValues,
  groupLabel,
  ident,
  type MetricKey,
  metricLabel,
  seedStats,
  withBand,
} from './dataset.js';
import { activationColor, FIGURE_CONFIG, type Figure, VEGA_LITE_SCHEMA } from './figure.js';

/** Final value per run → mean, sd and count over the seeds of each (x, activation, facet, panel). */
export async function finalBySeeds(
  session: ResultsSession,
  data: DatasetView,
  keys: MetricKey[],
  x: string,
  extra: string[] = [],
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const k of keys) {
    const rows = (
      await session.query(`
      SELECT CAST(r.${ident(x)} AS DOUBLE) AS x, ${ACTIVATION} AS activation,
             ${groupLabel(data.coordinates, [x, ...extra])} AS facet,
             ${extra.map((e) => `r.${ident(e)} AS ${ident(e)},`).join(' ')}
             ${seedStats('v.value')}
      FROM (${familyValues(k, 'final')}) v JOIN runs r USING (run_id)
      WHERE r.status = 'completed' GROUP BY ALL ORDER BY ALL`)
    ).rows;
    for (const r of withBand(rows)) out.push({ ...r, panel: metricLabel(k) });
  }
  return out;
}

/** Line + error-bar layers over `x`, coloured by activation. */
export function sweepLayers(xTitle: string, yTitle: string, activations: string[]) {
  const x = { field: 'x', type: 'quantitative', title: xTitle } as const;
  const color = activationColor(activations);
  return [
    {
      mark: { type: 'line', point: true },
      encoding: {
        x,
        y: { field: 'mean', type: 'quantitative', title: yTitle, scale: { zero: false } },
        color,
        tooltip: [
          { field: 'x', title: xTitle },
          { field: 'activation' },
          { field: 'mean', format: '.4f' },
          { field: 'sd', format: '.4f' },
          { field: 'n', title: 'seeds' },
        ],
      },
    },
    {
      mark: { type: 'errorbar', ticks: true },
      encoding: { x, y: { field: 'lo', type: 'quantitative', title: yTitle }, y2: { field: 'hi' }, color },
    },
  ];
}

/**
 * Sweep figures: kernel alignment (input | target) and, in a second figure, every other metric
 * family with a final value; none when no numeric coordinate varies.
 */
export async function sweepFigures(session: ResultsSession, data: DatasetView): Promise<Figure[]> {
  const xc = data.coordinates.find((c) => c.numeric);
  if (!xc || !data.views.has('runs')) return [];
  const alignment = data.metrics.filter((k) => k.metric === 'kernel_alignment' && k.layer === 1);
  const others = data.metrics.filter((k) => !alignment.includes(k));
  const figures: Figure[] = [];
  const facets = (rows: Record<string, unknown>[]) => new Set(rows.map((r) => r.facet)).size;
  for (const [id, keys, title] of [
    ['sweep-kernel-alignment', alignment, 'Final kernel alignment of the hidden layer'],
    ['sweep-metrics', others, 'Final value of every other metric'],
  ] as const) {
    if (!keys.length) continue;
    const values = await finalBySeeds(session, data, keys, xc.name);
    if (!values.length) continue;
    const rowFacet = facets(values) > 1 ? { row: { field: 'facet', type: 'nominal', title: null } } : {};
    figures.push({
      id,
      title: `${title} against ${xc.name}`,
      caption:
        `Each run's value at its last checkpoint (averaged over the dichotomies of a run where a metric has several), ` +
        `then the mean over the completed seeds of each grid point; error bars ± one sd over seeds. ` +
        `x: ${xc.name}; colour: activation${rowFacet.row ? '; rows: the other grid coordinates' : ''}.`,
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: FIGURE_CONFIG,
        data: { values },
        // Panels wrap four to a line unless the other coordinates need rows.
        ...(rowFacet.row
          ? {
              facet: {
                column: { field: 'panel', type: 'nominal', title: null },
                ...rowFacet,
              },
            }
          : { facet: { field: 'panel', type: 'nominal', title: null }, columns: 4 }),
        spec: { width: 220, height: 170, layer: sweepLayers(xc.name, 'final value', data.activations) },
        // Input and target alignment on one scale, to be compared; other metrics each on its own.
        resolve: { scale: { y: id === 'sweep-kernel-alignment' ? 'shared' : 'independent' } },
      } as Figure['spec'],
    });
  }
  return figures;
}
