/**
 * Vega-Lite → SVG in Node: compile the spec to Vega, run a headless View (no canvas, no DOM;
 * text widths are estimated) and serialise its scenegraph with `View#toSVG()`.
 */
import { Error as ERRORS_ONLY, logger, parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * The SVG markup of a Vega-Lite spec whose data are inline. Warnings are not printed: vega-lite
 * warns about layered facets with independent scales, which the figures use on purpose.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = compile(spec, { logger: logger(ERRORS_ONLY) }).spec;
  const view = new View(parse(vega), { renderer: 'none', logLevel: ERRORS_ONLY });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
