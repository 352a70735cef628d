/** Every pipeline in pipelines/ and pipelines/paper/ runs (--quick) to a complete results folder, and its summary query runs. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type Pipeline } from '../src/index.js';
import { queryResults } from '../src/query/index.js';

const out = mkdtempSync(join(tmpdir(), 'geomstream-pipelines-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
// pipelines/paper/paper-sweep.ts is the paper pipelines' shared grid, not a pipeline.
const files = [
  ...readdirSync(new URL('../pipelines/', import.meta.url)).filter((f) => f.endsWith('.ts')),
  ...readdirSync(new URL('../pipelines/paper/', import.meta.url))
    .filter((f) => f.endsWith('.ts') && f !== 'paper-sweep.ts')
    .map((f) => `paper/${f}`),
];

describe('pipelines/*.ts (--quick)', () => {
  it('are all here', () => {
    expect(files.sort()).toEqual([
      'nonlinearity-dissection.ts',
      'paper/alignment-sweep.ts',
      'paper/dirichlet-inputs.ts',
      'paper/random-kernel.ts',
      'separable-xor.ts',
      'tanh-vs-relu.ts',
      'weight-dynamics.ts',
    ]);
  });
  for (const file of files) {
    it(file, async () => {
      const pipeline = (await import(`../pipelines/${file}`)).default as Pipeline;
      const res = await runPipeline(pipeline, { out, quick: true, workers: 1 });
      expect(res.runs.total).toBeGreaterThan(0);
      expect(res.runs.completed).toBe(res.runs.total);
      expect(JSON.parse(readFileSync(join(res.dir, 'manifest.json'), 'utf8')).complete).toBe(true);
      const { rows } = await queryResults(res.dir, pipeline.summary!.sql);
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows)
        for (const v of Object.values(r)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    });
  }
});
