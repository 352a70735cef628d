/**
 * The README's pictures of each figure kind (docs/figures/*.png): `geomstream report` of the
 * shipped pipelines' full results, opened in headless Chromium, each figure's section
 * screenshotted. Regenerate after a change to the figures:
 *
 *   npx tsx scripts/readme-figures.ts [results-parent]    (default: results; run the pipelines there first)
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from './chromium.js';

/** Which figure of which pipeline's results stands for each kind (checked by test/readme-figures.test.ts). */
export const README_FIGURES = [
  { pipeline: 'tanh-vs-relu', figure: 'sweep-kernel-alignment' },
  { pipeline: 'tanh-vs-relu', figure: 'disentanglement' },
  { pipeline: 'tanh-vs-relu', figure: 'over-training-kernel-alignment-target' },
  { pipeline: 'tanh-vs-relu', figure: 'final-values' },
  { pipeline: 'weight-dynamics', figure: 'mechanism' },
  { pipeline: 'weight-dynamics', figure: 'intra-class-share' },
  { pipeline: 'nonlinearity-dissection', figure: 'nonlinearity-dissection' },
  { pipeline: 'separable-xor', figure: 'heatmap-kernel-alignment-target' },
] as const;

export const FIGURES_DIR = join(import.meta.dirname, '..', 'docs', 'figures');

async function main(parent: string): Promise<void> {
  const { report } = await import('../src/query/report.js');
  const pipelines = [...new Set(README_FIGURES.map((f) => f.pipeline))];
  const missing = pipelines.filter((p) => !existsSync(join(parent, p, 'metrics')));
  if (missing.length)
    throw new Error(
      `results-parent: ${parent} lacks ${missing.join(', ')}; run them first (geomstream run pipelines/<name>.ts --out ${parent})`,
    );
  mkdirSync(FIGURES_DIR, { recursive: true });
  const browser = await launchChromium();
  try {
    for (const p of pipelines) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 800 }, deviceScaleFactor: 1 });
      await page.goto(pathToFileURL(await report(join(parent, p))).href);
      for (const { figure } of README_FIGURES.filter((f) => f.pipeline === p)) {
        // The final-values table: its heading, caption and table; a figure: its SVG.
        const target =
          figure === 'final-values' ? await page.$('table.final') : await page.$(`section.figure#${figure} .svg svg`);
        if (!target) throw new Error(`${p}: no figure ${figure} in its report`);
        await target.screenshot({ path: join(FIGURES_DIR, `${figure}.png`) });
        console.log(join('docs', 'figures', `${figure}.png`));
      }
      await page.close();
    }
  } finally {
    await browser.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv[2] ?? 'results');
