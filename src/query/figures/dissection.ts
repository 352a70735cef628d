/**
 * The nonlinearity dissection: each activation's final target alignment against its final
 * intra-class share, one labelled point per activation (mean over seeds, ± sd bars on both axes),
 * one panel per grid point — whether the share of intra-class weight predicts the alignment.
 */
import type { ResultsSession } from '../results.js';
import { ACTIVATION, type DatasetView, groupLabel, INTRA_SHARE } from './dataset.js';
import { activationColor, FIGURE_CONFIG, type Figure, VEGA_LITE_SCHEMA } from './figure.js';

export async function dissectionFigures(session: ResultsSession, data: DatasetView): Promise<Figure[]> {
  const hasTarget = data.metrics.some((k) => k.metric === 'kernel_alignment' && k.against === 'target');
  if (!hasTarget || !data.views.has('neurons') || !data.views.has('runs') || data.activations.length < 2) return [];
  const values = (
    await session.query(`
    WITH share AS (
      SELECT n.run_id, avg(${INTRA_SHARE}) AS share
      FROM neurons n JOIN runs r USING (run_id) WHERE n.step = r.steps AND n.layer = 1 GROUP BY ALL),
    target AS (
      SELECT m.run_id, m.value AS target FROM metrics m JOIN runs r USING (run_id)
      WHERE m.step = r.steps AND m.metric = 'kernel_alignment' AND m.against = 'target' AND m.scope = 'run' AND m.layer = 1)
    SELECT ${groupLabel(data.coordinates)} AS facet, ${ACTIVATION} AS activation,
           avg(s.share) AS share, coalesce(stddev_samp(s.share), 0) AS share_sd,
           avg(t.target) AS target, coalesce(stddev_samp(t.target), 0) AS target_sd, count(*)::INTEGER AS n
    FROM share s JOIN target t USING (run_id) JOIN runs r USING (run_id)
    WHERE r.status = 'completed' AND isfinite(s.share) AND isfinite(t.target)
    GROUP BY ALL ORDER BY ALL`)
  ).rows.map((r) => {
    const [s, sd, t, td] = [r.share, r.share_sd, r.target, r.target_sd] as number[];
    return { ...r, share_lo: s - sd, share_hi: s + sd, target_lo: t - td, target_hi: t + td };
  });
  if (!values.length) return [];
  const x = { field: 'share', type: 'quantitative', title: 'final intra-class share', scale: { zero: false } } as const;
  const y = { field: 'target', type: 'quantitative', title: 'final target alignment', scale: { zero: false } } as const;
  const color = { ...activationColor(data.activations), legend: null } as const;
  return [
    {
      id: 'nonlinearity-dissection',
      title: 'Target alignment against intra-class share, per activation',
      caption:
        "Per activation: the mean over completed seeds of each run's final target alignment (kernel_alignment · target) " +
        'and final intra-class share (mean over neurons of |intra| / (|inter| + |intra|)); bars ± one sd on each axis.',
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: FIGURE_CONFIG,
        data: { values },
        facet: { field: 'facet', type: 'nominal', title: null },
        columns: 2,
        spec: {
          width: 420,
          height: 300,
          layer: [
            {
              mark: { type: 'rule', opacity: 0.5 },
              encoding: { x: { ...x, field: 'share_lo' }, x2: { field: 'share_hi' }, y, color },
            },
            {
              mark: { type: 'rule', opacity: 0.5 },
              encoding: { x, y: { ...y, field: 'target_lo' }, y2: { field: 'target_hi' }, color },
            },
            {
              mark: { type: 'point', filled: true, size: 50 },
              encoding: {
                x,
                y,
                color,
                tooltip: [
                  { field: 'activation' },
                  { field: 'share', format: '.4f' },
                  { field: 'target', format: '.4f' },
                  { field: 'n', title: 'seeds' },
                ],
              },
            },
            {
              mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 11 },
              encoding: { x, y, text: { field: 'activation' }, color },
            },
          ],
        },
      } as Figure['spec'],
    },
  ];
}
