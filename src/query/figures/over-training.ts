/**
 * Over training: each metric family against the training step (symmetric-log axis, so step 0
 * shows), one line per activation (mean over seeds) with a band of ± one sd over seeds; one panel
 * per combination of the other grid coordinates.
 */
import type { ResultsSession } from '../results.js';
import {
  ACTIVATION,
  type DatasetView,
  familyValues,
  figureId,
  groupLabel,
  type MetricKey,
  metricLabel,
  seedStats,
  withBand,
} from './dataset.js';
import { activationColor, FIGURE_CONFIG, type Figure, VEGA_LITE_SCHEMA } from './figure.js';

/** Mean and sd over seeds of a family at each (facet, activation, step); `status` filters the runs. */
export async function trajectories(
  session: ResultsSession,
  data: DatasetView,
  k: MetricKey,
  status: 'completed' | 'any' = 'completed',
): Promise<Record<string, unknown>[]> {
  const rows = (
    await session.query(`
    SELECT ${groupLabel(data.coordinates)} AS facet, ${ACTIVATION} AS activation, v.step,
           ${seedStats('v.value')}
    FROM (${familyValues(k, 'all')}) v JOIN runs r USING (run_id)
    ${status === 'completed' ? "WHERE r.status = 'completed'" : ''} GROUP BY ALL ORDER BY ALL`)
  ).rows;
  return withBand(rows);
}

/** The over-training spec of `values` (rows of `trajectories`). */
export function overTrainingSpec(values: Record<string, unknown>[], yTitle: string, activations: string[]) {
  const facets = new Set(values.map((r) => r.facet));
  const x = { field: 'step', type: 'quantitative', title: 'step', scale: { type: 'symlog' } } as const;
  const color = activationColor(activations);
  return {
    $schema: VEGA_LITE_SCHEMA,
    config: FIGURE_CONFIG,
    data: { values },
    facet: { field: 'facet', type: 'nominal', title: null },
    columns: Math.min(4, facets.size),
    spec: {
      width: 200,
      height: 150,
      layer: [
        {
          mark: { type: 'area', opacity: 0.2 },
          encoding: { x, y: { field: 'lo', type: 'quantitative', title: yTitle }, y2: { field: 'hi' }, color },
        },
        {
          mark: { type: 'line', point: { size: 12 } },
          encoding: {
            x,
            y: { field: 'mean', type: 'quantitative', title: yTitle, scale: { zero: false } },
            color,
            tooltip: [{ field: 'facet' }, { field: 'activation' }, { field: 'step' }, { field: 'mean', format: '.4f' }],
          },
        },
      ],
    },
  } as Figure['spec'];
}

/** One over-training figure per metric family computed at two checkpoints or more. */
export async function overTrainingFigures(session: ResultsSession, data: DatasetView): Promise<Figure[]> {
  if (!data.views.has('runs')) return [];
  const figures: Figure[] = [];
  for (const k of data.metrics.filter((m) => m.steps > 1)) {
    const values = await trajectories(session, data, k);
    if (!values.length) continue;
    const label = metricLabel(k);
    figures.push({
      id: figureId('over-training', label),
      title: `${label} over training`,
      caption:
        `Per run the value at each checkpoint${k.perDichotomy ? ' (mean over its dichotomies)' : ''}; ` +
        'lines: mean over completed seeds, band: ± one sd; step on a symmetric-log axis; panels: grid points.',
      spec: overTrainingSpec(values, label, data.activations),
    });
  }
  return figures;
}
