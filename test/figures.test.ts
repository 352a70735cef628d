/**
 * The report's figures are chosen from what a results folder holds and carry the folder's numbers:
 * the sweep figure's points are the seeds' mean ± sd of the final values, the mechanism overlays
 * the neurons' (inter, intra_1) on the field's (inter, intra_1), every figure renders with marks,
 * and `--figures-dir` writes each figure as SVG and Vega-Lite JSON after every check has run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipe } from 'rxjs';
import {
  alignedParity,
  definePipeline,
  geometry,
  probe,
  runPipeline,
  sweep,
  train,
  unstructured,
  weightDynamics,
} from '../src/index.js';
import { openResults, queryResults } from '../src/query/results.js';
import { describeDataset, type Figure, figuresOf, finalTable, renderSvg } from '../src/query/figures/index.js';
import { report } from '../src/query/report.js';

const out = mkdtempSync(join(tmpdir(), 'geomstream-figures-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const sweepPipeline = definePipeline({
  name: 'fig-sweep',
  seed: 3,
  runs: ({ seed }) =>
    sweep({
      seed,
      grid: { alignment: [0.15, 0.6], activation: ['tanh', 'relu'] as const },
      seeds: 3,
      run: (p, seeds) => ({
        task: alignedParity({ d: 2, k: 1, alignment: p.alignment, N: 20, sigma: 3, seed: seeds.task }),
        network: { activation: p.activation, width: 16 },
        training: { lr: 0.1, batch: 32, samples: 256, epochs: 3, checkpoints: { logSpaced: 3 } },
      }),
    }),
  process: () =>
    pipe(
      train(),
      probe({ samplesPerCondition: 8 }),
      geometry({
        metrics: [
          'kernel_alignment',
          'ps',
          { name: 'ccgp', classifier: 'ridge', steps: 'final' },
          { name: 'decodability', classifier: 'ridge', steps: 'final' },
          { name: 'decodability', classifier: 'ridge', dichotomies: 'latents', steps: 'final' },
        ],
      }),
    ),
});

const dynamicsPipeline = definePipeline({
  name: 'fig-dynamics',
  seed: 4,
  runs: ({ seed }) =>
    sweep({
      seed,
      grid: { activation: ['tanh', 'relu'] as const },
      seeds: 2,
      run: (p, seeds) => ({
        task: unstructured({ P: 4, N: 30, sigma: 1, targets: { positive: [0, 3] }, seed: seeds.task }),
        network: { activation: p.activation, width: 12 },
        training: { lr: 0.1, batch: 50, samples: 200, epochs: 3, checkpoints: { logSpaced: 3 } },
      }),
    }),
  process: () =>
    pipe(
      train(),
      weightDynamics({ field: { steps: 'first', neurons: [0, 1], size: 5 } }),
      probe(),
      geometry({ metrics: ['kernel_alignment'] }),
    ),
});

let sweepDir: string;
let dynamicsDir: string;
const figuresIn = async (dir: string): Promise<Figure[]> => {
  const session = await openResults(dir);
  try {
    return await figuresOf(session);
  } finally {
    session.close();
  }
};
const values = (f: Figure) => (f.spec as { data: { values: Record<string, unknown>[] } }).data.values;
const byId = (figures: Figure[], id: string) => {
  const f = figures.find((g) => g.id === id);
  if (!f) throw new Error(`no figure ${id} among ${figures.map((g) => g.id).join(', ')}`);
  return f;
};

beforeAll(async () => {
  sweepDir = (await runPipeline(sweepPipeline, { out })).dir;
  dynamicsDir = (await runPipeline(dynamicsPipeline, { out })).dir;
}, 120_000);

describe('figures of a results folder', () => {
  it('chooses the figures from what the folder holds', async () => {
    const ids = (await figuresIn(sweepDir)).map((f) => f.id);
    expect(ids.slice(0, 3)).toEqual(['sweep-kernel-alignment', 'sweep-metrics', 'disentanglement']);
    expect(ids).toContain('over-training-kernel-alignment-target');
    expect(ids).not.toContain('over-training-ccgp'); // computed at the final step only
    expect(ids).not.toContain('mechanism'); // no neurons/ or field/
    expect(ids.some((id) => id.startsWith('heatmap'))).toBe(false); // one numeric coordinate only
    const dynamics = (await figuresIn(dynamicsDir)).map((f) => f.id);
    expect(dynamics).toEqual(expect.arrayContaining(['mechanism', 'intra-class-share', 'nonlinearity-dissection']));
    expect(dynamics.some((id) => id.startsWith('sweep'))).toBe(false); // activation is the only coordinate
  });

  it('draws the mean and sd over seeds of the final values in the sweep figure', async () => {
    const points = values(byId(await figuresIn(sweepDir), 'sweep-kernel-alignment'));
    const expected = (
      await queryResults(
        sweepDir,
        `SELECT r.alignment AS x, r.activation, f.against, avg(f.value) AS mean, stddev_samp(f.value) AS sd, count(*) AS n
         FROM final f JOIN runs r USING (run_id) WHERE f.metric = 'kernel_alignment' AND f.scope = 'run'
         GROUP BY ALL ORDER BY ALL`,
      )
    ).rows;
    expect(points).toHaveLength(expected.length);
    for (const e of expected) {
      const p = points.find(
        (q) => q.x === e.x && q.activation === e.activation && q.panel === `kernel_alignment · ${e.against}`,
      )!;
      expect(p.mean).toBeCloseTo(e.mean as number, 12);
      expect(p.sd).toBeCloseTo(e.sd as number, 12);
      expect(p.lo).toBeCloseTo((e.mean as number) - (e.sd as number), 12);
      expect(Number(p.n)).toBe(3);
    }
  });

  it('keeps apart what differs in meaning: the decoding of the targets and of the latents', async () => {
    const panels = values(byId(await figuresIn(sweepDir), 'sweep-metrics'));
    const expected = (
      await queryResults(
        sweepDir,
        `WITH v AS (SELECT m.run_id, avg(m.value) AS value FROM final m WHERE m.metric = 'decodability' AND m.dichotomy LIKE 'latent%' GROUP BY ALL)
         SELECT r.alignment AS x, r.activation, avg(v.value) AS mean FROM v JOIN runs r USING (run_id) GROUP BY ALL`,
      )
    ).rows;
    const targets = (
      await queryResults(
        sweepDir,
        `SELECT avg(value) FILTER (WHERE dichotomy LIKE 'latent%') AS l, avg(value) FILTER (WHERE dichotomy LIKE 'target%') AS t
         FROM final WHERE metric = 'decodability'`,
      )
    ).rows[0];
    expect(targets.l).not.toBeCloseTo(targets.t as number, 3); // else the test could not tell them apart
    const latents = panels.filter((p) => p.panel === 'decodability · latents · ridge');
    expect(latents).toHaveLength(expected.length);
    for (const e of expected)
      expect(latents.find((p) => p.x === e.x && p.activation === e.activation)!.mean).toBeCloseTo(e.mean as number, 12);
    expect(panels.some((p) => p.panel === 'decodability · ridge')).toBe(true);
  });

  it('takes the grid coordinates from the ensemble ids, not the columns computed from them', async () => {
    const paper = (await import('../pipelines/paper/alignment-sweep.js')).default;
    const { dir } = await runPipeline(paper, { out, quick: true, set: { targets: 'one,all' } });
    const session = await openResults(dir);
    const data = await describeDataset(session);
    const sweepFig = (await figuresOf(session)).find((f) => f.id === 'sweep-kernel-alignment')!;
    session.close();
    // alignment = fraction·√(k/(P−1)), k and outputs follow targets: not coordinates of their own.
    expect(data.coordinates.map((c) => c.name)).toEqual(['fraction', 'targets']);
    const lines = new Map<string, number>();
    for (const p of values(sweepFig)) {
      const key = `${p.facet}|${p.panel}|${p.activation}`;
      lines.set(key, (lines.get(key) ?? 0) + 1);
    }
    expect([...lines.values()].every((n) => n === 2)).toBe(true); // two fractions on every line
    expect(new Set(values(sweepFig).map((p) => p.facet))).toEqual(new Set(['targets=all', 'targets=one']));
  });

  it('orders the final-values table by the grid values, numbers as numbers', async () => {
    const session = await openResults(sweepDir);
    const table = await finalTable(session, await describeDataset(session));
    session.close();
    expect(table.rows.map((r) => `${r.grid} ${r.activation}`)).toEqual([
      'alignment=0.15 tanh',
      'alignment=0.15 relu',
      'alignment=0.6 tanh',
      'alignment=0.6 relu',
    ]);
    expect(table.columns).toContain('kernel_alignment · target');
    expect(table.rows[0].cells['kernel_alignment · target'].n).toBe(3);
  });

  it('overlays the neurons (inter, intra_1) on the field of the same plane', async () => {
    const f = byId(await figuresIn(dynamicsDir), 'mechanism');
    const rows = values(f);
    const path = rows.filter((r) => r.layer === 'path');
    const neurons = (
      await queryResults(
        dynamicsDir,
        `SELECT run_id, neuron, step, inter, intra_1 FROM neurons
         WHERE (run_id, neuron) IN (SELECT DISTINCT (run_id, neuron) FROM field) ORDER BY ALL`,
      )
    ).rows;
    expect(path.map((r) => [r.run_id, r.neuron, r.step, r.inter, r.intra_1])).toEqual(
      neurons.map((r) => [r.run_id, r.neuron, r.step, r.inter, r.intra_1]),
    );
    const arrows = rows.filter((r) => r.layer === 'field');
    expect(arrows.length).toBe(2 * 2 * 25); // 2 runs (first replicate of each activation) × 2 neurons × 5²
    for (const a of arrows)
      expect(a.angle).toBeCloseTo((Math.atan2(a.d_inter as number, a.d_intra_1 as number) * 180) / Math.PI, 9);
  });

  it('gives no facet a sort (custom-sorted facet headers can label the wrong cells)', async () => {
    const facetSorts = (spec: unknown): string[] => {
      const found: string[] = [];
      const walk = (v: unknown, path: string) => {
        if (!v || typeof v !== 'object') return;
        for (const [k, x] of Object.entries(v)) {
          if (k === 'facet' || k === 'row' || k === 'column') {
            const defs = (x as Record<string, unknown>)?.field ? [x] : Object.values(x as object);
            for (const d of defs) if ((d as Record<string, unknown>)?.sort !== undefined) found.push(`${path}.${k}`);
          }
          if (k !== 'data') walk(x, `${path}.${k}`);
        }
      };
      walk(spec, '');
      return found;
    };
    for (const dir of [sweepDir, dynamicsDir])
      for (const f of await figuresIn(dir)) expect(facetSorts(f.spec), f.id).toEqual([]);
  });

  it('renders every figure with marks', async () => {
    for (const dir of [sweepDir, dynamicsDir])
      for (const f of await figuresIn(dir)) {
        const svg = await renderSvg(f.spec);
        expect(svg.startsWith('<svg'), f.id).toBe(true);
        // Vega's SVG: a group of class role-mark per mark (axes and grids have other roles), an element per item.
        const items = [...svg.matchAll(/<g class="mark-[a-z]+ role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].flatMap(
          (m) => m[1].match(/<(path|line) /g) ?? [],
        );
        expect(items.length, f.id).toBeGreaterThan(0);
      }
  });
});

describe('geomstream report', () => {
  it('writes report.html with every figure inline and its spec, and --figures-dir files', async () => {
    const figs = join(out, 'figs');
    const path = await report(sweepDir, { figuresDir: figs });
    const html = readFileSync(path, 'utf8');
    const ids = (await figuresIn(sweepDir)).map((f) => f.id);
    expect(html.match(/<section class="figure"/g)).toHaveLength(ids.length);
    expect(html.match(/<svg /g)).toHaveLength(ids.length);
    const specs = [
      ...html.matchAll(
        /<script type="application\/json" class="vega-lite-spec" data-figure="([^"]+)">(.*?)<\/script>/gs,
      ),
    ];
    expect(specs.map((m) => m[1])).toEqual(ids);
    expect(JSON.parse(specs[0][2]).data.values.length).toBeGreaterThan(0);
    expect(html).not.toMatch(/(src|href)="https?:/); // self-contained
    expect(html).toContain('<table class="final">');
    // What is not drawn is said, with what it would need.
    expect(html).toMatch(
      /Not drawn, for want of data in this folder: .*<b>mechanism and intra-class share<\/b> \(needs neurons\/ and field\//,
    );
    expect(html).toContain('<b>heatmaps</b> (needs two numeric grid coordinates');
    expect(readdirSync(figs).sort()).toEqual(ids.flatMap((id) => [`${id}.svg`, `${id}.vl.json`]).sort());
    expect(JSON.parse(readFileSync(join(figs, 'sweep-kernel-alignment.vl.json'), 'utf8')).$schema).toMatch(
      /vega-lite\/v6/,
    );
  });

  it('refuses a bad folder or figures-dir before writing anything', async () => {
    await expect(report(join(out, 'nowhere'))).rejects.toThrow(
      /results-dir: received ".*nowhere"; accepted: a geomstream results folder/,
    );
    // A folder of another schema version: named, before anything is written.
    const old = join(out, 'old');
    mkdirSync(join(old, 'metrics'), { recursive: true });
    writeFileSync(join(old, 'manifest.json'), JSON.stringify({ schema_version: 1 }));
    await expect(report(old)).rejects.toThrow(
      /results-dir: received ".*old"; accepted: a results folder of schema \d+ \(manifest.json says 1/,
    );
    expect(existsSync(join(old, 'report.html'))).toBe(false);
    const file = join(out, 'a-file');
    writeFileSync(file, 'x');
    rmSync(join(dynamicsDir, 'report.html'), { force: true });
    await expect(report(dynamicsDir, { figuresDir: file })).rejects.toThrow(
      /figures-dir: received ".*a-file"; accepted: a folder/,
    );
    expect(existsSync(join(dynamicsDir, 'report.html'))).toBe(false);
  });
});
