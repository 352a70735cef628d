/**
 * The mechanism (the paper's Figure 1D): per activation and neuron, the neuron's input weights
 * over training in its (inter, intra_1) plane — the projection on the inter-class axis u_i and the
 * signed first intra-class component, both from `neurons/` — drawn over the expected-gradient
 * field of `field/` on the same plane (arrows: the descent direction, length ∝ its norm); and the
 * intra-class share |intra| / (|inter| + |intra|) over training (`intra` the norm of the whole
 * intra-class projection, as the weight-dynamics summary uses it).
 */
import type { ResultsSession } from '../results.js';
import { ACTIVATION, type DatasetView, groupLabel, INTRA_SHARE, seedStats, withBand } from './dataset.js';
import { FIGURE_CONFIG, type Figure, VEGA_LITE_SCHEMA } from './figure.js';
import { overTrainingSpec } from './over-training.js';

/** Field arrows and trajectories of the neurons that have a field, one panel per (activation, neuron). */
export async function mechanismFigures(session: ResultsSession, data: DatasetView): Promise<Figure[]> {
  const figures: Figure[] = [];
  if (data.views.has('field') && data.views.has('neurons') && data.views.has('runs')) {
    const field = (
      await session.query(`
      WITH f AS (SELECT * FROM field WHERE (run_id, step) IN (SELECT (run_id, min(step)) FROM field GROUP BY run_id))
      SELECT ${ACTIVATION} AS activation, f.run_id, f.neuron, f.step AS field_step, f.inter, f.intra_1,
             f.d_inter, f.d_intra_1, sqrt(f.d_inter ^ 2 + f.d_intra_1 ^ 2) AS magnitude
      FROM f JOIN runs r USING (run_id) ORDER BY ALL`)
    ).rows;
    const path = (
      await session.query(`
      SELECT ${ACTIVATION} AS activation, n.run_id, n.neuron, n.step, n.inter, n.intra_1
      FROM neurons n JOIN runs r USING (run_id)
      WHERE n.layer = 1 AND (n.run_id, n.neuron) IN (SELECT DISTINCT (run_id, neuron) FROM field)
      ORDER BY ALL`)
    ).rows;
    if (field.length && path.some((p) => p.intra_1 !== null)) {
      // Arrows point along (d_inter, d_intra_1): a Vega symbol's angle is clockwise from "up".
      // Lengths relative to the largest arrow of the panel: the fields of different neurons differ in scale.
      const largest = new Map<string, number>();
      const panel = (f: Record<string, unknown>) => `${f.run_id}\u0000${f.neuron}`;
      for (const f of field) largest.set(panel(f), Math.max(largest.get(panel(f)) ?? 0, f.magnitude as number));
      const arrows = field.map((f) => ({
        layer: 'field',
        ...f,
        angle: (Math.atan2(f.d_inter as number, f.d_intra_1 as number) * 180) / Math.PI,
        // A symbol's size is its area: the square makes its length proportional to the norm.
        relative: ((f.magnitude as number) / (largest.get(panel(f)) || 1)) ** 2,
      }));
      const values = [...arrows, ...path.map((p) => ({ layer: 'path', ...p }))];
      const xy = {
        // Short titles: a title longer than its panel pushes the facet rows apart.
        x: { field: 'inter', type: 'quantitative', title: 'inter' },
        y: { field: 'intra_1', type: 'quantitative', title: 'intra_1' },
      } as const;
      const runs = new Set(field.map((f) => f.run_id)).size;
      figures.push({
        id: 'mechanism',
        title: 'The mechanism: neurons over training on their expected-gradient field',
        caption:
          `Per activation (rows) and neuron (columns), ${runs} run(s): the neuron's input weights projected on its ` +
          'inter-class axis u_i and its first intra-class axis (neurons: inter, intra_1) at every checkpoint, ' +
          'coloured by step; arrows: the descent direction of the expected loss on the same plane (field: d_inter, ' +
          "d_intra_1) at the field's first step, length ∝ its norm relative to the panel's largest.",
        spec: {
          $schema: VEGA_LITE_SCHEMA,
          config: FIGURE_CONFIG,
          data: { values },
          facet: {
            row: { field: 'activation', type: 'nominal', title: null },
            column: { field: 'neuron', type: 'ordinal', title: 'neuron' },
          },
          spec: {
            width: 170,
            height: 170,
            layer: [
              {
                transform: [{ filter: "datum.layer === 'field'" }],
                mark: { type: 'point', shape: 'arrow', filled: true, color: '#8a8a8a' },
                encoding: {
                  ...xy,
                  angle: { field: 'angle', type: 'quantitative', scale: { domain: [-360, 360], range: [-360, 360] } },
                  size: {
                    field: 'relative',
                    type: 'quantitative',
                    scale: { domain: [0, 1], range: [2, 80] },
                    legend: null,
                  },
                },
              },
              {
                transform: [{ filter: "datum.layer === 'path'" }],
                mark: { type: 'line', color: '#222', strokeWidth: 1 },
                encoding: { ...xy, order: { field: 'step', type: 'quantitative' }, detail: { field: 'run_id' } },
              },
              {
                transform: [{ filter: "datum.layer === 'path'" }],
                mark: { type: 'point', filled: true, size: 28 },
                encoding: {
                  ...xy,
                  color: { field: 'step', type: 'quantitative', scale: { type: 'symlog', scheme: 'viridis' } },
                  tooltip: [
                    { field: 'neuron' },
                    { field: 'step' },
                    { field: 'inter', format: '.3f' },
                    { field: 'intra_1', format: '.3f' },
                  ],
                },
              },
            ],
          },
          resolve: { scale: { x: 'independent', y: 'independent' } },
        } as Figure['spec'],
      });
    }
  }
  if (data.views.has('neurons') && data.views.has('runs')) {
    const values = withBand(
      (
        await session.query(`
      WITH share AS (
        SELECT n.run_id, n.step, avg(${INTRA_SHARE}) AS value
        FROM neurons n WHERE n.layer = 1 GROUP BY ALL)
      SELECT ${groupLabel(data.coordinates)} AS facet, ${ACTIVATION} AS activation, s.step,
             ${seedStats('s.value')}
      FROM share s JOIN runs r USING (run_id) WHERE r.status = 'completed' AND isfinite(s.value)
      GROUP BY ALL ORDER BY ALL`)
      ).rows,
    );
    if (values.length)
      figures.push({
        id: 'intra-class-share',
        title: 'Intra-class share of the first layer over training',
        caption:
          'Per run, the mean over neurons of |intra| / (|inter| + |intra|) (neurons: intra is the norm of the ' +
          'intra-class projection); lines: mean over completed seeds, band: ± one sd; step on a symmetric-log axis.',
        spec: overTrainingSpec(values, 'intra-class share', data.activations),
      });
  }
  return figures;
}
