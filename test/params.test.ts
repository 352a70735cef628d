/** Pipeline parameters (`params`, `--set name=value`, `--list-params`): typed by their defaults, checked before anything is touched. */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipe } from 'rxjs';
import { formatParams, parseParam, resolveParams } from '../src/params.js';
import { definePipeline, runPipeline } from '../src/pipeline.js';
import { alignedParity, geometry, probe, sweep, train } from '../src/index.js';

const root = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'geomstream-params-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('parseParam / resolveParams', () => {
  it("parses each value as its default's type", () => {
    expect(parseParam('a', '0,0.1, 0.2', [1])).toEqual([0, 0.1, 0.2]);
    expect(parseParam('a', 'tanh,relu', ['x'])).toEqual(['tanh', 'relu']);
    expect(parseParam('a', '7', 1)).toBe(7);
    expect(parseParam('a', 'false', true)).toBe(false);
    expect(parseParam('a', 'hello', 'x')).toBe('hello');
  });
  it('rejects a wrong type or an unknown name, saying what is accepted', () => {
    expect(() => parseParam('seeds', 'ten', 5)).toThrow(/set seeds: received "ten"; accepted: a finite number/);
    expect(() => parseParam('alignments', '0,,1', [0])).toThrow(
      /set alignments: received "0,,1"; accepted: finite numbers separated by commas/,
    );
    expect(() => parseParam('quick', 'yes', false)).toThrow(/accepted: true or false/);
    expect(() => resolveParams({ seeds: 5, lr: 0.1 }, { sedes: '3' })).toThrow(
      /set: received "sedes"; accepted: a parameter of this pipeline: seeds, lr/,
    );
    expect(resolveParams({ seeds: 5, lr: 0.1 }, { seeds: '3' })).toEqual({ seeds: 3, lr: 0.1 });
  });
  it('lists the parameters with their types and defaults', () => {
    expect(formatParams({ alignments: [0, 0.5], seeds: 5 })).toBe(
      'alignments  number[]  0,0.5\nseeds       number    5',
    );
  });
});

const tiny = definePipeline({
  name: 'tiny-params',
  params: ({ quick }) => ({ alignments: [0, 0.5], seeds: quick ? 1 : 2, metric: 'kernel_alignment' }),
  runs: ({ seed, params }) =>
    sweep({
      seed,
      grid: { alignment: params.alignments },
      seeds: params.seeds,
      run: (p, s) => ({
        task: alignedParity({ d: 2, k: 1, alignment: p.alignment, N: 8, sigma: 0.5, seed: s.task }),
        network: { activation: 'tanh', width: 4 },
        training: { lr: 0.1, batch: 20, samples: 100, epochs: 1, checkpoints: { steps: [5] } },
      }),
    }),
  process: (ctx) => pipe(train(ctx.train), probe(), geometry({ metrics: [ctx.params.metric as 'kernel_alignment'] })),
});

describe('runPipeline({ set })', () => {
  it('changes the runs; the values are recorded in the manifest; quick changes the defaults', async () => {
    const a = await runPipeline(tiny, { out, set: { alignments: '0,0.25,0.5', seeds: '3' } });
    expect(a.runs.total).toBe(9);
    const manifest = JSON.parse(readFileSync(join(a.dir, 'manifest.json'), 'utf8'));
    expect(manifest.configuration.params).toEqual({ alignments: [0, 0.25, 0.5], seeds: 3, metric: 'kernel_alignment' });
    // A parameter that process reads is part of the dataset's identity; the grid's are not (it may grow).
    expect(manifest.identity.params).toEqual({ metric: 'kernel_alignment' });
    await expect(
      runPipeline(tiny, { out, set: { alignments: '0,0.25,0.5', seeds: '3', metric: 'debiased_cka' } }),
    ).rejects.toThrow(/params \{"metric":"kernel_alignment"\} \(now \{"metric":"debiased_cka"\}\)/);
    const grown = await runPipeline(tiny, { out, set: { alignments: '0,0.25,0.5,0.75', seeds: '3' } });
    expect(grown.ensembles).toEqual({ kept: 3, written: 1 });
    // Other runs where the dataset has some: a resume refuses, saying which.
    await expect(runPipeline(tiny, { out, set: { alignments: '0,0.25,0.5,0.75', seeds: '1' } })).rejects.toThrow(
      /the configuration of ensembles .* differs/,
    );
    const q = await runPipeline(tiny, { out: join(out, 'quick'), quick: true });
    expect(q.runs.total).toBe(2);
  });
  it('a bad value is rejected before the folder is touched', async () => {
    await expect(runPipeline(tiny, { out: join(out, 'never'), set: { seeds: 'many' } })).rejects.toThrow(
      /set seeds: received "many"/,
    );
    expect(existsSync(join(out, 'never'))).toBe(false);
  });
});

describe('the shipped pipelines declare their grids as parameters', () => {
  for (const file of ['tanh-vs-relu', 'separable-xor', 'weight-dynamics', 'nonlinearity-dissection']) {
    it(`${file}: --list-params`, () => {
      const text = execFileSync('node', ['bin/geomstream.js', 'run', `pipelines/${file}.ts`, '--list-params'], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(text).toMatch(/parameters \(--set name=value\)/);
      expect(text).toMatch(/^seeds\s+number\s+\d+$/m);
      expect(text).toMatch(/^epochs\s+number\s+\d+$/m);
    });
  }
  it('an unknown --set name exits 2 listing the accepted names', () => {
    const r = spawnSync(
      'node',
      ['bin/geomstream.js', 'run', 'pipelines/tanh-vs-relu.ts', '--set', 'alignment=0', '--out', join(out, 'never2')],
      { cwd: root, encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /set: received "alignment"; accepted: a parameter of this pipeline: alignments, activations, seeds/,
    );
    expect(existsSync(join(out, 'never2'))).toBe(false);
  });
});
