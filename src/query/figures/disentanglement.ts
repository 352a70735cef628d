/**
 * Disentanglement: PS, CCGP and SD (and decodability) per target dichotomy at each run's final
 * checkpoint, bars grouped by activation, mean ± sd over seeds; one row of panels per grid point.
 */
import type { ResultsSession } from '../results.js';
import { ACTIVATION, type DatasetView, groupLabel, lit, seedStats, withBand } from './dataset.js';
import { activationColor, FIGURE_CONFIG, type Figure, VEGA_LITE_SCHEMA } from './figure.js';

/** The metrics of the figure, in panel order. */
const DISENTANGLEMENT = ['ps', 'ccgp', 'sd', 'decodability'];

export async function disentanglementFigures(session: ResultsSession, data: DatasetView): Promise<Figure[]> {
  const present = DISENTANGLEMENT.filter((m) => data.metrics.some((k) => k.metric === m && k.layer === 1));
  if (!present.length || !data.views.has('runs')) return [];
  const values = withBand(
    (
      await session.query(`
    SELECT m.metric || coalesce(' · ' || m.classifier, '') AS metric, coalesce(m.dichotomy, 'all balanced') AS dichotomy, ${groupLabel(data.coordinates)} AS facet,
           ${ACTIVATION} AS activation, ${seedStats('m.value')}
    FROM metrics m JOIN runs r USING (run_id)
    WHERE m.step = r.steps AND r.status = 'completed' AND m.scope = 'run' AND m.layer = 1 AND isfinite(m.value)
      AND m.metric IN (${present.map(lit).join(', ')})
    GROUP BY ALL ORDER BY ALL`)
    ).rows,
  );
  if (!values.length) return [];
  const color = activationColor(data.activations);
  const x = { field: 'dichotomy', type: 'nominal', title: null, axis: { labelAngle: 0 } } as const;
  const xOffset = { field: 'activation', type: 'nominal', sort: data.activations } as const;
  return [
    {
      id: 'disentanglement',
      title: 'Disentanglement at the final checkpoint: PS, CCGP and SD per target dichotomy',
      caption:
        "Bars: mean over completed seeds of each run's final value per dichotomy (SD: over all balanced dichotomies); " +
        'error bars ± one sd; colour: activation; rows: grid points. CCGP, SD and decodability are accuracies (chance 0.5).',
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: FIGURE_CONFIG,
        data: { values },
        facet: {
          column: { field: 'metric', type: 'nominal', title: null },
          row: { field: 'facet', type: 'nominal', title: null },
        },
        spec: {
          width: { step: 22 },
          height: 130,
          layer: [
            {
              mark: 'bar',
              encoding: {
                x,
                xOffset,
                y: { field: 'mean', type: 'quantitative', title: 'final value' },
                color,
                tooltip: [
                  { field: 'metric' },
                  { field: 'dichotomy' },
                  { field: 'activation' },
                  { field: 'mean', format: '.4f' },
                  { field: 'sd', format: '.4f' },
                  { field: 'n', title: 'seeds' },
                ],
              },
            },
            {
              mark: { type: 'errorbar', ticks: true, color: '#333' },
              encoding: {
                x,
                xOffset,
                y: { field: 'lo', type: 'quantitative', title: 'final value' },
                y2: { field: 'hi' },
              },
            },
          ],
        },
        resolve: { scale: { x: 'independent' } },
      } as Figure['spec'],
    },
  ];
}
