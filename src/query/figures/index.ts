/**
 * The figures of a results folder, chosen from what it holds: the sweep over a numeric grid
 * coordinate, disentanglement, the mechanism and intra-class share (with `neurons/`, `field/`),
 * the nonlinearity dissection, heatmaps over two coordinates, and every metric over training.
 */
import type { ResultsSession } from '../results.js';
import { describeDataset } from './dataset.js';
import { dissectionFigures } from './dissection.js';
import { disentanglementFigures } from './disentanglement.js';
import type { Figure } from './figure.js';
import { heatmapFigures } from './heatmap.js';
import { mechanismFigures } from './mechanism.js';
import { overTrainingFigures } from './over-training.js';
import { sweepFigures } from './sweep.js';

export type { Figure } from './figure.js';
export { renderSvg } from './render.js';
export { finalTable, type FinalTable } from './final-table.js';
export { describeDataset } from './dataset.js';

/** Every figure the folder's data support, in reading order (the headline first). */
export async function figuresOf(session: ResultsSession): Promise<Figure[]> {
  const data = await describeDataset(session);
  const out: Figure[] = [];
  for (const make of [
    sweepFigures,
    disentanglementFigures,
    mechanismFigures,
    dissectionFigures,
    heatmapFigures,
    overTrainingFigures,
  ])
    out.push(...(await make(session, data)));
  return out;
}
