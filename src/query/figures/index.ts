/**
 * The figures of a results folder, chosen from what it holds: the sweep over a numeric grid
 * coordinate, disentanglement, the mechanism and intra-class share (with `neurons/`, `field/`),
 * the nonlinearity dissection, heatmaps over two coordinates, and every metric over training.
 */
import type { ResultsSession } from '../results.js';
import { type DatasetView, describeDataset } from './dataset.js';
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
export { type DatasetView, describeDataset } from './dataset.js';

/** Each kind of figure, and what a folder needs for it (said on the page when a folder lacks it). */
const KINDS = [
  {
    make: sweepFigures,
    kind: 'sweep',
    needs: 'a numeric grid coordinate that varies across runs (alignment, eps, width, …)',
  },
  {
    make: disentanglementFigures,
    kind: 'disentanglement',
    needs: "rows of 'ps', 'ccgp', 'sd' or 'decodability' (geometry({ metrics }))",
  },
  {
    make: mechanismFigures,
    kind: 'mechanism and intra-class share',
    needs:
      'neurons/ and field/: weightDynamics({ field }) on a task whose label classes hold several conditions (pipelines/weight-dynamics.ts)',
  },
  {
    make: dissectionFigures,
    kind: 'nonlinearity dissection',
    needs: 'neurons/, target kernel alignment and two activations or more (pipelines/nonlinearity-dissection.ts)',
  },
  {
    make: heatmapFigures,
    kind: 'heatmaps',
    needs: 'two numeric grid coordinates (pipelines/separable-xor.ts: eps × sigma)',
  },
  { make: overTrainingFigures, kind: 'over training', needs: 'a metric computed at two checkpoints or more' },
] as const;

/** A kind of figure the folder cannot support, and what it would need. */
export interface AbsentFigure {
  kind: string;
  needs: string;
}

/** Every figure the folder's data support, in reading order (the headline first), and the kinds it lacks. */
export async function figuresOf(
  session: ResultsSession,
  absent?: AbsentFigure[],
  data?: DatasetView,
): Promise<Figure[]> {
  data ??= await describeDataset(session);
  const out: Figure[] = [];
  for (const { make, kind, needs } of KINDS) {
    const made = await make(session, data);
    if (!made.length) absent?.push({ kind, needs });
    out.push(...made);
  }
  return out;
}
