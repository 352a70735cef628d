/**
 * Heatmaps over two swept coordinates (the separable XOR's eps × sigma grid): the final target
 * alignment, PS and decodability of each cell, mean over seeds, one panel per activation.
 */
import type { ResultsSession } from '../results.js';
import type { DatasetView } from './dataset.js';
import { figureId, metricLabel } from './dataset.js';
import { FIGURE_CONFIG, type Figure, VEGA_LITE_SCHEMA } from './figure.js';
import { finalBySeeds } from './sweep.js';

/** Metric families drawn as heatmaps, when present. */
const HEATMAP_METRICS = [
  { metric: 'kernel_alignment', against: 'target', dichotomies: null },
  { metric: 'ps', against: null, dichotomies: 'target' },
  { metric: 'decodability', against: null, dichotomies: 'target' },
  { metric: 'decodability', against: null, dichotomies: 'latent' },
] as const;

export async function heatmapFigures(session: ResultsSession, data: DatasetView): Promise<Figure[]> {
  const [xc, yc] = data.coordinates.filter((c) => c.numeric);
  if (!xc || !yc || !data.views.has('runs')) return [];
  const figures: Figure[] = [];
  for (const want of HEATMAP_METRICS) {
    const key = data.metrics.find(
      (k) =>
        k.metric === want.metric && k.against === want.against && k.dichotomies === want.dichotomies && k.layer === 1,
    );
    if (!key) continue;
    const values = (await finalBySeeds(session, data, [key], xc.name, [yc.name])).map((r) => ({
      ...r,
      [xc.name]: r.x,
    }));
    if (!values.length) continue;
    const label = metricLabel(key);
    const facets = new Set(values.map((r) => r.facet)).size;
    figures.push({
      id: figureId('heatmap', label),
      title: `${label}: ${xc.name} × ${yc.name}`,
      caption:
        `Each cell: the mean over completed seeds of the runs' final ${label}${key.perDichotomy ? ' (mean over dichotomies)' : ''}; ` +
        `columns: activation${facets > 1 ? '; rows: the other grid coordinates' : ''}.`,
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        config: FIGURE_CONFIG,
        data: { values },
        facet: {
          column: { field: 'activation', type: 'nominal', title: null },
          ...(facets > 1 ? { row: { field: 'facet', type: 'nominal', title: null } } : {}),
        },
        spec: {
          width: { step: 14 },
          height: { step: 28 },
          mark: 'rect',
          encoding: {
            x: { field: xc.name, type: 'ordinal', title: xc.name, axis: { labelAngle: -60, format: '.3~f' } },
            y: { field: yc.name, type: 'ordinal', title: yc.name, sort: 'descending' },
            color: { field: 'mean', type: 'quantitative', title: 'final value', scale: { scheme: 'viridis' } },
            tooltip: [
              { field: xc.name },
              { field: yc.name },
              { field: 'activation' },
              { field: 'mean', format: '.4f' },
              { field: 'sd', format: '.4f' },
              { field: 'n', title: 'seeds' },
            ],
          },
        },
      } as Figure['spec'],
    });
  }
  return figures;
}
