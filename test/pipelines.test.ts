/** Every pipeline in pipelines/ and pipelines/paper/ runs (--quick) to a complete results folder, and its summary query runs. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { runPipeline, type Pipeline } from '../src/index.js';
import type { TrainedRunSpec as RunSpec } from '../src/types.js';
import { pipelineParams } from '../src/pipeline.js';
import { resolveParams } from '../src/params.js';
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
      'deep-networks.ts',
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

describe("the paper sweep's range", () => {
  /** The runs of a paper pipeline (quick) with `--set` values, without training them. */
  async function runsOf(file: string, set: Record<string, string>): Promise<RunSpec[]> {
    const pipeline = (await import(`../pipelines/${file}`)).default as Pipeline;
    const params = resolveParams(pipelineParams(pipeline, true), set);
    const built = pipeline.runs({ quick: true, params, seed: 1, train: {}, workers: 1, pool: null });
    return Array.isArray(built) ? built : await lastValueFrom(built.pipe(toArray()));
  }
  const alignments = (runs: RunSpec[]) =>
    [...new Set(runs.map((r) => (r.task.params as { alignment: number }).alignment))].sort((a, b) => a - b);

  it("'below' sweeps c from 0 to √(k/(P−1)), 'above' from √(k/(P−1)) to 1 (k = d = 3)", async () => {
    const c = Number(Math.sqrt(3 / 7).toFixed(6));
    const set = { fractions: '0,1', d: '3', targets: 'all' };
    expect(alignments(await runsOf('paper/alignment-sweep.ts', set))).toEqual([0, c]);
    expect(alignments(await runsOf('paper/alignment-sweep.ts', { ...set, range: 'above' }))).toEqual([c, 1]);
    expect(alignments(await runsOf('paper/dirichlet-inputs.ts', { ...set, range: 'above' }))).toEqual([c, 1]);
  });
  it("rejects another range, and 'above' where the alignments already reach 1", async () => {
    await expect(runsOf('paper/alignment-sweep.ts', { range: 'middle' })).rejects.toThrow(/set range.*middle.*'below'/);
    await expect(runsOf('paper/random-kernel.ts', { range: 'above' })).rejects.toThrow(/set range.*above/);
  });
});
