/**
 * The README's pictures: it shows exactly the figures scripts/readme-figures.ts draws, each PNG is
 * in the repository, and each names a figure the current code draws for that pipeline's data
 * (checked on the pipelines' quick runs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIGURES_DIR, README_FIGURES } from '../scripts/readme-figures.js';
import { type Pipeline, runPipeline } from '../src/index.js';
import { figuresOf } from '../src/query/figures/index.js';
import { openResults } from '../src/query/results.js';

const ROOT = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'geomstream-readme-figures-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the README pictures', () => {
  it('are the ones the script draws, and are in the repository', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const shown = [...readme.matchAll(/!\[[^\]]*\]\(docs\/figures\/([^)]+)\.png\)/g)].map((m) => m[1]);
    expect(shown).toEqual(README_FIGURES.map((f) => f.figure));
    for (const { figure } of README_FIGURES) {
      const png = readFileSync(join(FIGURES_DIR, `${figure}.png`));
      expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), figure).toBe('PNG');
    }
  });

  it('name figures the code draws for each pipeline', async () => {
    for (const name of [...new Set(README_FIGURES.map((f) => f.pipeline))]) {
      const pipeline = (await import(join(ROOT, 'pipelines', `${name}.ts`))).default as Pipeline;
      // The quick XOR grid has one sigma; two make its heatmaps.
      const set: Record<string, string> = name === 'separable-xor' ? { sigma: '0,0.1' } : {};
      const { dir } = await runPipeline(pipeline, { out, quick: true, set });
      const session = await openResults(dir);
      const ids = (await figuresOf(session)).map((f) => f.id);
      session.close();
      for (const { figure } of README_FIGURES.filter((f) => f.pipeline === name))
        if (figure !== 'final-values') expect(ids, name).toContain(figure);
    }
  });
});
