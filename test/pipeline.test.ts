import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { pipe } from 'rxjs';
import {
  runPipeline,
  definePipeline,
  alignedParity,
  sweep,
  train,
  probe,
  geometry,
  resolveActivation,
  hiddenActivity,
  linearCKA,
  type ResultsSummary,
  SCHEMA_VERSION,
} from '../src/index.js';
import { queryResults } from '../src/query/index.js';
import { GEOMETRY_METRICS, type MetricRequest } from '../src/operators/geometry-metrics.js';
import { signedTargets } from '../src/sources/task-dichotomies.js';
import { tinyPipeline } from './tiny-pipeline.js';
import { METRIC_COLUMNS } from './helpers.js';

const out = mkdtempSync(join(tmpdir(), 'geomstream-test-'));
let summary: ResultsSummary;
let dir: string;

beforeAll(async () => {
  summary = await runPipeline(tinyPipeline(), { out, formats: ['arrow', 'ndjson'], snapshots: true });
  dir = summary.dir;
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('a tiny pipeline, read back with DuckDB', () => {
  it('writes the results layout, and nothing half-written', () => {
    const files = readdirSync(dir).sort();
    expect(files).toEqual([
      '.geomstream-segments',
      'manifest.json',
      'metrics',
      'metrics.arrows',
      'metrics.ndjson',
      'runs.ndjson',
      'runs.parquet',
      'snapshots.arrows',
    ]);
    expect(readdirSync(join(dir, 'metrics')).every((f) => /^part-[0-9a-f]{12}-\d{3}\.parquet$/.test(f))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      schema_version: SCHEMA_VERSION,
      pipeline: 'tiny',
      complete: true,
      runs: { total: 8, completed: 8 },
    });
    expect(manifest.configuration.seed).toBe(3);
  });
  it('runs.parquet has one row per run with every configuration column', async () => {
    const { columns, rows } = await queryResults(dir, 'SELECT * FROM runs ORDER BY run_id');
    for (const c of [
      'run_id',
      'ensemble_id',
      'pipeline',
      'seed',
      'data_seed',
      'task_seed',
      'task_family',
      'd',
      'k',
      'P',
      'outputs',
      'alignment',
      'N',
      'sigma',
      'activation',
      'width',
      'depth',
      'readout',
      'optimizer',
      'lr',
      'batch',
      'epochs',
      'samples',
      'replicate',
      'backend',
      'status',
      'diverged_step',
      'steps',
      'final_loss',
      'wall_time_s',
    ]) {
      expect(columns).toContain(c);
    }
    expect(rows).toHaveLength(8);
    expect(new Set(rows.map((r) => r.activation))).toEqual(new Set(['tanh', 'relu']));
    expect(new Set(rows.map((r) => r.alignment))).toEqual(new Set([0, 0.5]));
    expect(rows.every((r) => r.status === 'completed' && r.steps === 24 && r.backend === summary.backend)).toBe(true);
    expect(rows.every((r) => r.P === 4 && r.outputs === 2 && r.k === 2 && r.d === 2)).toBe(true);
  });
  it('metrics are long format with the contract columns and the expected rows', async () => {
    const { columns, rows } = await queryResults(dir, 'SELECT * FROM metrics');
    expect(columns).toEqual(METRIC_COLUMNS);
    // Checkpoints 0, 5, 10, 24; per run: 2 kernel alignments + loss + accuracy; per ensemble: 2.
    expect(rows.filter((r) => r.scope === 'run')).toHaveLength(8 * 4 * 4);
    expect(rows.filter((r) => r.scope === 'ensemble')).toHaveLength(4 * 4 * 2);
    const ka = await queryResults(
      dir,
      "SELECT against, count(*) AS n, min(value) AS lo, max(value) AS hi FROM metrics WHERE metric = 'kernel_alignment' GROUP BY against ORDER BY against",
    );
    expect(ka.rows.map((r) => r.against)).toEqual(['input', 'target']);
    for (const r of ka.rows) {
      expect(r.lo as number).toBeGreaterThanOrEqual(0);
      expect(r.hi as number).toBeLessThanOrEqual(1 + 1e-12);
    }
  });
  it('every kernel alignment value equals one recomputed from the written weight snapshots', async () => {
    const snaps = tableFromIPC(readFileSync(join(dir, 'snapshots.arrows')));
    expect(snaps.numRows).toBe(8 * 4);
    const { rows } = await queryResults(
      dir,
      "SELECT run_id, step, against, value FROM metrics WHERE metric = 'kernel_alignment' AND scope = 'run'",
    );
    const runs = (await queryResults(dir, 'SELECT run_id, activation, alignment, task_seed FROM runs')).rows;
    let checked = 0;
    for (const snap of snaps.toArray()) {
      const run = runs.find((r) => r.run_id === snap.run_id)!;
      const task = alignedParity({
        d: 2,
        k: 2,
        alignment: run.alignment as number,
        N: 12,
        sigma: 0.5,
        seed: run.task_seed as number,
      });
      const params = {
        N: snap.N,
        H: snap.H,
        K: snap.K,
        W: snap.W.toArray(),
        b1: snap.b1.toArray(),
        J: snap.J.toArray(),
        b2: snap.b2.toArray(),
      };
      const hidden = hiddenActivity(params, resolveActivation(run.activation), task.means);
      for (const [against, ref] of [
        ['input', task.means],
        ['target', signedTargets(task.targets)],
      ] as const) {
        const row = rows.find((r) => r.run_id === snap.run_id && r.step === snap.step && r.against === against)!;
        expect(row.value as number).toBeCloseTo(linearCKA(hidden, ref), 9);
        checked++;
      }
    }
    expect(checked).toBe(64);
  });
  it('Arrow IPC stream and NDJSON hold the same rows as the Parquet parts', async () => {
    const arrow = tableFromIPC(readFileSync(join(dir, 'metrics.arrows')));
    const ndjson = readFileSync(join(dir, 'metrics.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const { rows } = await queryResults(dir, 'SELECT count(*) AS n, sum(value) AS s FROM metrics');
    expect(arrow.numRows).toBe(Number(rows[0].n));
    expect(ndjson).toHaveLength(Number(rows[0].n));
    expect(arrow.schema.fields.map((f) => f.name)).toEqual(METRIC_COLUMNS);
    expect(Object.keys(ndjson[0])).toEqual(METRIC_COLUMNS);
    const sum = (vals: number[]) => vals.reduce((a, b) => a + b, 0);
    expect(sum(arrow.getChild('value')!.toArray() as unknown as number[])).toBeCloseTo(rows[0].s as number, 9);
    expect(sum(ndjson.map((r) => r.value))).toBeCloseTo(rows[0].s as number, 9);
  });
  it('is reproducible: the same pipeline gives the same numbers', async () => {
    const again = await runPipeline(tinyPipeline({ name: 'tiny-again' }), { out });
    const q =
      'SELECT run_id, step, metric, against, scope, value FROM metrics ORDER BY run_id, step, metric, against, scope';
    const a = (await queryResults(dir, q)).rows;
    const b = (await queryResults(again.dir, q)).rows;
    expect(b).toEqual(a);
  });
  it('runs the summary query over the views runs, metrics and final', async () => {
    const { rows } = await queryResults(dir, tinyPipeline().summary!.sql);
    expect(Number(rows[0].n)).toBe(8 * 2 + 4 * 2);
  });
});

describe('diverged runs', () => {
  it('are recorded with status and step while the other runs go on', async () => {
    const res = await runPipeline(tinyPipeline({ lrs: [0.2, 1e300], name: 'tiny-diverge' }), { out });
    expect(res.runs).toMatchObject({ total: 16, completed: 8, diverged: 8, failed: 0 });
    const { rows } = await queryResults(
      res.dir,
      'SELECT status, lr, min(diverged_step) AS lo, max(diverged_step) AS hi, count(*)::INTEGER AS n FROM runs GROUP BY status, lr ORDER BY lr',
    );
    expect(rows).toEqual([
      { status: 'completed', lr: 0.2, lo: null, hi: null, n: 8 },
      { status: 'diverged', lr: 1e300, lo: 2, hi: 2, n: 8 },
    ]);
    const m = await queryResults(
      res.dir,
      "SELECT count(DISTINCT r.run_id)::INTEGER AS n FROM metrics m JOIN runs r USING (run_id) WHERE r.status = 'completed' AND m.step = 24",
    );
    expect(m.rows[0].n).toBe(8);
  });
});

describe('bad input is rejected before training starts', () => {
  const badPipeline = (network: Record<string, unknown>, task: Record<string, unknown> = {}) =>
    definePipeline({
      name: 'bad',
      runs: () =>
        sweep({
          grid: { alignment: [0.5] },
          run: (p) => ({
            task: alignedParity({ d: 2, k: 2, alignment: p.alignment, N: 12, ...task } as never),
            network: { width: 4, ...network } as never,
            training: { epochs: 1, samples: 20, batch: 10 },
          }),
        }),
      process: (ctx) => pipe(train(ctx.train), probe(), geometry()),
    });
  const cases: Array<[string, ReturnType<typeof badPipeline>, RegExp]> = [
    [
      'an unknown activation',
      badPipeline({ activation: 'sigmoidal' }),
      /network.activation: received "sigmoidal"; accepted: 'tanh', 'relu'/,
    ],
    [
      'c outside [0, 1]',
      badPipeline({}, { alignment: 1.5 }),
      /alignment: received 1.5; accepted: a finite number >= 0 and <= 1/,
    ],
    [
      'c unreachable for the task',
      badPipeline({}, { k: 3, alignment: 0.5 }),
      /alignment: received 0.5; accepted: 1 only, when k = P − 1 = 3/,
    ],
    ['k > P − 1', badPipeline({}, { k: 4 }), /k: received 4; accepted: an integer >= 1 and <= 3/],
    ['a non-positive width', badPipeline({ width: 0 }), /network.width: received 0; accepted: an integer >= 1/],
  ];
  for (const [what, pipeline, message] of cases) {
    it(what, async () => {
      let started = false;
      await expect(
        runPipeline(pipeline, {
          out,
          onStart: () => {
            started = true;
          },
        }),
      ).rejects.toThrow(message);
      expect(started).toBe(false);
      expect(existsSync(join(out, 'bad'))).toBe(false);
    });
  }
  it('an output folder that cannot be written', async () => {
    const file = join(out, 'not-a-folder');
    writeFileSync(file, 'x');
    let started = false;
    await expect(
      runPipeline(tinyPipeline(), {
        out: file,
        onStart: () => {
          started = true;
        },
      }),
    ).rejects.toThrow(/out: received ".*not-a-folder\/tiny"; accepted: a folder that can be created and written/);
    expect(started).toBe(false);
  });
});

describe('deeper networks: probe and geometry on any layer', () => {
  const deep = (layer: number | 'all') =>
    definePipeline({
      name: `deep-${layer}`,
      runs: () =>
        sweep({
          grid: { alignment: [0.5] },
          seeds: 2,
          run: (p, s) => ({
            task: alignedParity({ d: 2, k: 2, alignment: p.alignment, N: 12, sigma: 0.5, seed: s.task }),
            network: { width: 8, depth: 2, readout: 'trained' },
            training: { lr: 0.01, batch: 25, samples: 100, epochs: 2, optimizer: 'adam', checkpoints: { steps: [] } },
          }),
        }),
      process: (ctx) => pipe(train(ctx.train), probe({ layer }), geometry()),
    });
  it("writes rows for every layer with probe({ layer: 'all' }), and the depth and optimizer columns", async () => {
    const res = await runPipeline(deep('all'), { out });
    const { rows } = await queryResults(
      res.dir,
      "SELECT layer, scope, count(*)::INTEGER AS n FROM metrics WHERE metric = 'kernel_alignment' GROUP BY ALL ORDER BY ALL",
    );
    // 2 checkpoints × 2 against; per run (2 runs) and per ensemble.
    expect(rows).toEqual([
      { layer: 1, scope: 'ensemble', n: 4 },
      { layer: 1, scope: 'run', n: 8 },
      { layer: 2, scope: 'ensemble', n: 4 },
      { layer: 2, scope: 'run', n: 8 },
    ]);
    const runs = await queryResults(res.dir, 'SELECT DISTINCT depth, optimizer, readout FROM runs');
    expect(runs.rows).toEqual([{ depth: 2, optimizer: 'adam', readout: 'trained' }]);
  });
  it('a layer beyond the depth is an error at the first snapshot, before any training step', async () => {
    let steps = 0;
    await expect(
      runPipeline(deep(3), {
        out,
        onSteps: (n) => {
          steps += n;
        },
      }),
    ).rejects.toThrow(/layer: received 3; accepted: a hidden layer from 1 to the network's depth, 2/);
    expect(steps).toBe(0);
  });
});

describe('training in worker threads', () => {
  it('gives the same numbers as training in this thread', async () => {
    const a = await runPipeline(tinyPipeline({ name: 'tiny-w1' }), { out, workers: 1 });
    const b = await runPipeline(tinyPipeline({ name: 'tiny-w2' }), { out, workers: 2 });
    const q =
      'SELECT run_id, step, metric, against, scope, value FROM metrics ORDER BY run_id, step, metric, against, scope';
    const ra = (await queryResults(a.dir, q)).rows;
    expect(ra.length).toBeGreaterThan(100);
    expect((await queryResults(b.dir, q)).rows).toEqual(ra);
    const runs = await queryResults(b.dir, 'SELECT DISTINCT backend, status FROM runs');
    expect(runs.rows).toEqual([{ backend: a.backend, status: 'completed' }]);
  });
});

describe('sharded runs (--shard i/n)', () => {
  it('two shards into one folder give the same dataset as one unsharded run', async () => {
    const whole = await runPipeline(tinyPipeline({ name: 'tiny-whole' }), { out });
    const s0 = await runPipeline(tinyPipeline({ name: 'tiny-sharded' }), { out, shard: { index: 0, count: 2 } });
    const s1 = await runPipeline(tinyPipeline({ name: 'tiny-sharded' }), { out, shard: { index: 1, count: 2 } });
    expect(s0.runs.total + s1.runs.total).toBe(whole.runs.total);
    // Whole ensembles per shard: every ensemble id in exactly one shard.
    const files = readdirSync(s0.dir).sort();
    expect(files).toEqual([
      'manifest.shard-0-of-2.json',
      'manifest.shard-1-of-2.json',
      'metrics',
      'runs.shard-0-of-2.parquet',
      'runs.shard-1-of-2.parquet',
    ]);
    const q =
      'SELECT run_id, step, metric, against, scope, value FROM metrics ORDER BY run_id, step, metric, against, scope';
    expect((await queryResults(s0.dir, q)).rows).toEqual((await queryResults(whole.dir, q)).rows);
    const r = 'SELECT run_id, seed, status FROM runs ORDER BY run_id';
    expect((await queryResults(s0.dir, r)).rows).toEqual((await queryResults(whole.dir, r)).rows);
    // Re-running one shard replaces only its own files.
    await runPipeline(tinyPipeline({ name: 'tiny-sharded' }), { out, shard: { index: 1, count: 2 } });
    expect((await queryResults(s0.dir, q)).rows).toEqual((await queryResults(whole.dir, q)).rows);
  });
  it('rejects a shard outside 0 <= i < n', async () => {
    await expect(runPipeline(tinyPipeline(), { out, shard: { index: 2, count: 2 } })).rejects.toThrow(
      /shard: received "2\/2"; accepted: i\/n with integers 0 <= i < n/,
    );
  });
});

describe('geometry hosts the full metric set', () => {
  it('writes every metric with its coordinates', async () => {
    const all = definePipeline({
      name: 'all-metrics',
      runs: () =>
        sweep({
          grid: { activation: ['tanh'] as const },
          seeds: 2,
          run: (p, s) => ({
            task: alignedParity({ d: 3, k: 3, alignment: 0.5, N: 16, sigma: 0.5, seed: s.task }),
            network: { activation: p.activation, width: 12 },
            training: { lr: 0.2, batch: 40, samples: 400, epochs: 3, checkpoints: { steps: [] } },
          }),
        }),
      process: (ctx) =>
        pipe(
          train(ctx.train),
          probe({ samplesPerCondition: 10 }),
          geometry({
            metrics: [
              'kernel_alignment',
              'debiased_cka',
              { name: 'rbf_cka', threshold: 0.5 },
              { name: 'rsa', compare: 'kendall' },
              'ps',
              { name: 'ccgp', classifier: 'ridge' },
              { name: 'ccgp', scheme: 'nearest-pair', steps: 'final' },
              { name: 'sd', classifier: 'ridge', folds: 5, steps: 'final' },
              { name: 'decodability', classifier: 'ridge', steps: 'final' },
              { name: 'decodability', classifier: 'ridge', dichotomies: 'latents', steps: 'final' },
              'participation_ratio',
              'sparsity',
            ],
          }),
        ),
    });
    const res = await runPipeline(all, { out });
    const { rows } = await queryResults(
      res.dir,
      `SELECT metric, against, dichotomy, classifier, count(*)::INTEGER AS n
      FROM metrics WHERE scope = 'run' GROUP BY ALL ORDER BY ALL`,
    );
    const key = (r: Record<string, unknown>) =>
      [r.metric, r.against, r.dichotomy, r.classifier].map((v) => v ?? '-').join('/');
    const got = Object.fromEntries(rows.map((r) => [key(r), r.n]));
    // 2 runs × 2 checkpoints (0 and final), 'final'-only metrics 2 × 1.
    expect(got).toMatchObject({
      'kernel_alignment/input/-/-': 4,
      'kernel_alignment/target/-/-': 4,
      'debiased_cka/target/-/-': 4,
      'rbf_cka/input/-/-': 4,
      'rsa/target/-/-': 4,
      'ps/-/target0/-': 4,
      'ps/-/target2/-': 4,
      'ccgp/-/target1/ridge': 4,
      'ccgp_nearest/-/target0/svm': 2,
      'sd/-/-/ridge': 2,
      'decodability/-/target2/ridge': 2,
      'decodability/-/latent0/ridge': 2, // the latent bits, with dichotomies: 'latents'
      'decodability/-/latent2/ridge': 2,
      'participation_ratio/-/-/-': 4,
      'sparsity/-/-/-': 4,
      'loss/target/-/-': 4,
      'accuracy/target/-/-': 4,
    });
    const values = await queryResults(
      res.dir,
      "SELECT min(value) AS lo, max(value) AS hi FROM metrics WHERE metric IN ('ccgp', 'sd', 'decodability', 'sparsity')",
    );
    expect(values.rows[0].lo as number).toBeGreaterThanOrEqual(0);
    expect(values.rows[0].hi as number).toBeLessThanOrEqual(1);
    // `fits_converged` is set exactly where classifiers were fitted (the ccgp_nearest rows fit the SVM).
    const conv = await queryResults(
      res.dir,
      `SELECT classifier IS NOT NULL AS fitted, fits_converged, count(*)::INTEGER AS n FROM metrics GROUP BY ALL ORDER BY ALL`,
    );
    expect(conv.rows.map((r) => [r.fitted, r.fits_converged])).toEqual([
      [false, null],
      [true, true],
    ]);
  });
  it('types each metric request by its name, and the table of metrics is fixed', () => {
    const fine: MetricRequest[] = [
      'ps',
      { name: 'ccgp', classifier: 'ridge', scheme: 'nearest-pair' },
      { name: 'sd', folds: 3 },
    ];
    expect(fine).toHaveLength(3);
    // @ts-expect-error an unknown classifier does not compile
    const badClassifier: MetricRequest = { name: 'ccgp', classifier: 'knn' };
    // @ts-expect-error nor an option another metric has
    const badOption: MetricRequest = { name: 'ps', folds: 3 };
    // @ts-expect-error nor a misspelt name
    const badName: MetricRequest = 'kernal_alignment';
    expect([badClassifier, badOption, badName]).toHaveLength(3);
    expect(Object.isFrozen(GEOMETRY_METRICS)).toBe(true);
  });
  it('rejects unknown metrics and bad options before work, and says when samples are needed', async () => {
    expect(() => geometry({ metrics: ['cka2' as never] })).toThrow(
      /metrics\[0\]: received "cka2"; accepted: 'kernel_alignment'/,
    );
    expect(() => geometry({ metrics: [{ name: 'ccgp', classifier: 'knn' as never }] })).toThrow(
      /metrics\[0\].classifier: received "knn"; accepted: 'svm' \| 'ridge'/,
    );
    expect(() => geometry({ metrics: [{ name: 'ps', folds: 3 } as never] })).toThrow(
      /metrics\[0\].folds: received 3; accepted: the options dichotomies, null, steps/,
    );
    expect(() => geometry({ metrics: [{ name: 'sd', steps: 'last' as never }] })).toThrow(
      /metrics\[0\].steps: received "last"; accepted: 'all' \| 'final'/,
    );
    const noSamples = definePipeline({
      name: 'no-samples',
      runs: () =>
        sweep({
          grid: { a: [1] },
          run: () => ({
            task: alignedParity({ d: 2, k: 2, alignment: 0.5, N: 8 }),
            network: { width: 4 },
            training: { epochs: 1, samples: 20, batch: 10 },
          }),
        }),
      process: (ctx) => pipe(train(ctx.train), probe(), geometry({ metrics: ['sd'] })),
    });
    await expect(runPipeline(noSamples, { out })).rejects.toThrow(
      /metrics: received "sd"; accepted: 'sd' only with noisy samples of every condition: probe\(\{ samplesPerCondition: n \}\)/,
    );
  });
});
