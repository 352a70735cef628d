/**
 * A figure of a results folder: a Vega-Lite specification with its data inline, so that the spec
 * alone redraws it (in the report, in the Vega editor, in Python's altair), and the words that say
 * what it shows.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface Figure {
  /** File-name-safe identifier, unique within a report (`<id>.svg`, `<id>.vl.json`). */
  id: string;
  title: string;
  /** What is drawn and how it was computed from the files. */
  caption: string;
  spec: TopLevelSpec;
}

/** The Vega-Lite schema the specs follow (vega-lite 6; a URL for editors, never fetched by the report). */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * Facets are never given a `sort`: panels come in ascending order of their label. Vega-Lite has
 * drawn custom-sorted facet headers over the wrong cells (vega/vega-lite#2553, #8675; seen here
 * with a layered, independently scaled facet), which would put one metric's name on another's
 * numbers. test/figures.test.ts holds every spec to this.
 */

/** Shared look: a white background and print-friendly fonts. */
export const FIGURE_CONFIG = {
  background: 'white',
  font: 'sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
} as const;

/**
 * The colour channel of every figure: activation, with the folder's activations as the domain in
 * their order in runs.parquet, so an activation has the same colour in every figure of a report.
 */
export function activationColor(activations: string[]) {
  return { field: 'activation', type: 'nominal', title: 'activation', scale: { domain: activations } } as const;
}
