/**
 * Ingestion: checkpoints and activations written by other programs, through analyzeFiles and the
 * sources, against the same metrics computed directly. The Python producers need numpy,
 * safetensors and pyarrow (`.ci/run` installs them; elsewhere those tests are skipped unless CI is set).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { tableFromIPC } from 'apache-arrow';
import { lastValueFrom, pipe, toArray } from 'rxjs';
import { alignedParity, definePipeline, geometry, probe, runPipeline, sweep, train } from '../src/index.js';
import { analyzeFiles } from '../src/analysis.js';
import { fromCheckpoints, checkpointParams, tensorMap } from '../src/sources/checkpoints.js';
import { fromActivations } from '../src/sources/activations.js';
import { externalTask, readTaskFile, taskFromSpec } from '../src/sources/task-file.js';
import { readyFiles } from '../src/sources/watch.js';
import { readSafetensors, writeSafetensors } from '../src/formats/safetensors.js';
import { readNpy } from '../src/formats/npy.js';
import { representationOf } from '../src/operators/probe.js';
import { linearCKA, parallelismScore, ccgp } from '../src/metrics/index.js';
import { signedTargets } from '../src/sources/task-dichotomies.js';
import type { MetricRequest } from '../src/operators/geometry.js';
import { queryResults } from '../src/query/index.js';
import type { ErrorRow, MetricRow, StreamRecord, WeightSnapshot } from '../src/types.js';
import type { Tensor } from '../src/formats/tensor.js';

const py = spawnSync('python3', ['-c', 'import numpy, safetensors, pyarrow'], { encoding: 'utf8' });
const python = py.status === 0;
if (!python && process.env.CI)
  throw new Error(`python3 with numpy, safetensors and pyarrow is required in CI: ${py.stderr || py.error}`);
const script = (name: string) => fileURLToPath(new URL(`./python/${name}`, import.meta.url));

const root = mkdtempSync(join(tmpdir(), 'geomstream-ingest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TASK = { family: 'aligned-parity', d: 3, k: 3, alignment: 0.33, N: 20, sigma: 1, seed: 4 };
const task = taskFromSpec(TASK);
const MAP = 'W=fc1.weight,b1=fc1.bias,J=fc2.weight,b2=fc2.bias';

const key = (r: MetricRow) =>
  `${r.scope}|${r.run_id}|${r.step}|${r.layer}|${r.metric}|${r.against}|${r.dichotomy}|${r.classifier}`;
async function metricRows(dir: string): Promise<MetricRow[]> {
  const { rows } = await queryResults(dir, 'SELECT * FROM metrics ORDER BY ALL');
  return rows as unknown as MetricRow[];
}

/** A valid checkpoint (one network, H = 6) for the task, as bytes, with tensors changed by `edit`. */
function checkpoint(
  step: number,
  edit: (t: Record<string, Tensor>) => void = () => undefined,
  seed = step,
): Uint8Array {
  const H = 6,
    { N, K } = task;
  let s = seed + 1;
  const rand = (n: number) => Float32Array.from({ length: n }, () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5);
  const tensors: Record<string, Tensor> = {
    W: { dtype: 'F32', shape: [H, N], data: rand(H * N) },
    b1: { dtype: 'F32', shape: [H], data: rand(H) },
    J: { dtype: 'F32', shape: [K, H], data: rand(K * H) },
    b2: { dtype: 'F32', shape: [K], data: rand(K) },
  };
  edit(tensors);
  return writeSafetensors(tensors, { step: String(step) });
}

describe('task files', () => {
  it('builds a task from its JSON as the source function does, and rejects unknown families and parameters', () => {
    expect(task.id).toBe(alignedParity({ d: 3, k: 3, alignment: 0.33, N: 20, sigma: 1, seed: 4 }).id);
    expect(() => taskFromSpec({ family: 'xor' })).toThrow(/task.family: received "xor"; accepted: 'aligned-parity'/);
    expect(() => taskFromSpec({ ...TASK, width: 3 })).toThrow(
      /task.width: received 3; accepted: the parameters of 'aligned-parity'/,
    );
  });
  it('geomstream task writes means, targets, latents and a seeded sample set that readTaskFile turns back into the task', () => {
    const dir = join(root, 'task');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'task.json'), JSON.stringify(TASK));
    const r = spawnSync(
      'node',
      ['bin/geomstream.js', 'task', join(dir, 'task.json'), '--out', join(dir, 'task.safetensors'), '--samples', '50'],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { tensors, metadata } = readSafetensors(readFileSync(join(dir, 'task.safetensors')));
    expect(tensors.get('means')!.shape).toEqual([8, 20]);
    expect(Array.from(tensors.get('means')!.data)).toEqual(Array.from(task.means.data));
    expect(tensors.get('targets')!.shape).toEqual([8, 3]);
    expect(tensors.get('latents')!.shape).toEqual([8, 3]);
    expect(tensors.get('x')!.shape).toEqual([50, 20]);
    expect(tensors.get('conditions')!.dtype).toBe('I32');
    const batch = task.sample(50, Number(metadata.samples_seed));
    expect(Array.from(tensors.get('x')!.data)).toEqual(Array.from(batch.x));
    expect(readTaskFile(join(dir, 'task.safetensors')).id).toBe(task.id);
  });
  it('an external task without inputs rejects metrics against the input before any work', async () => {
    const ext = externalTask({ targets: [[0], [1], [0], [1]] });
    expect(ext.N).toBe(0);
    const dir = join(root, 'ext');
    mkdirSync(dir, { recursive: true });
    await expect(
      analyzeFiles({ path: dir, task: ext, metrics: ['kernel_alignment'], out: join(root, 'ext-out') }),
    ).rejects.toThrow(
      /metrics\[0\]: received "kernel_alignment"; accepted: metrics that do not compare with the task's inputs/,
    );
    expect(() => readdirSync(join(root, 'ext-out'))).toThrow(); // nothing was created
  });
});

describe('fromCheckpoints', () => {
  it('reads the tensors in the orientation of nn.Linear, splits an ensemble, and names shape errors', () => {
    const bytes = checkpoint(0, (t) => {
      for (const [k, v] of Object.entries(t))
        t[k] = { ...v, shape: [2, ...v.shape], data: Float32Array.from([...v.data, ...v.data.map((x) => -x)]) };
    });
    const params = checkpointParams(readSafetensors(bytes).tensors, tensorMap(undefined), task);
    expect(params).toHaveLength(2);
    expect(params[1].W[0]).toBe(-params[0].W[0]);
    expect(params[0].H).toBe(6);
    const wrong = readSafetensors(
      checkpoint(0, (t) => {
        t.J = { ...t.J, shape: [2, 6], data: t.J.data.subarray(0, 12) };
      }),
    ).tensors;
    expect(() => checkpointParams(wrong, tensorMap(undefined), task)).toThrow(
      /tensor 'J'.shape: received "\[2, 6\]"; accepted: \[3, 6\] \(task: N = 20 inputs, K = 3 outputs/,
    );
    expect(() => tensorMap('W=fc1.weight,X=y')).toThrow(
      /map.X: received "y"; accepted: the roles W, b1, J, b2, W_l, b_l/,
    );
  });

  it('gives every bad file one error row (path, step, error) and the good checkpoints their complete rows', async () => {
    const dir = join(root, 'bad');
    mkdirSync(dir, { recursive: true });
    const good = [0, 10, 20];
    for (const s of good) writeFileSync(join(dir, `ckpt-${s}.safetensors`), checkpoint(s));
    const valid = checkpoint(30);
    const header = (b: Uint8Array) => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
    const withHeader = (json: string, body = new Uint8Array(0)) => {
      const h = new TextEncoder().encode(json);
      const out = new Uint8Array(8 + h.length + body.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
      out.set(h, 8);
      out.set(body, 8 + h.length);
      return out;
    };
    const cases: Record<string, Uint8Array> = {
      'truncated-31': valid.subarray(0, valid.length - 7),
      'header-too-long-32': (() => {
        const b = valid.slice();
        new DataView(b.buffer).setBigUint64(0, BigInt(header(b) + 1000), true);
        return b;
      })(),
      'json-bomb-33': (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true);
        return b;
      })(),
      'bad-json-34': withHeader('{"W": {"dtype": "F32",'),
      'unknown-dtype-35': withHeader(
        '{"W": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}',
        new Uint8Array(16),
      ),
      'past-end-36': withHeader('{"W": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}', new Uint8Array(8)),
      'overlap-37': withHeader(
        '{"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b1": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}',
        new Uint8Array(12),
      ),
      'missing-38': checkpoint(38, (t) => {
        delete t.J;
      }),
      'shape-39': checkpoint(39, (t) => {
        t.W = { ...t.W, shape: [6, 19], data: t.W.data.subarray(0, 6 * 19) };
      }),
      'nan-40': checkpoint(40, (t) => {
        t.W.data[3] = NaN;
        t.b1.data[0] = Infinity;
      }),
      'dup-10-again': checkpoint(10),
    };
    for (const [name, bytes] of Object.entries(cases)) writeFileSync(join(dir, `${name}.safetensors`), bytes);
    const records = await lastValueFrom(
      fromCheckpoints({ path: dir, task, network: { activation: 'tanh' } }).pipe(toArray()),
    );
    const errors = records.filter((r): r is ErrorRow => r.kind === 'error');
    const snaps = records.filter((r): r is WeightSnapshot => r.kind === 'snapshot');
    expect(snaps.map((s) => s.step)).toEqual(good);
    expect(snaps.map((s) => s.final)).toEqual([false, false, true]);
    expect(errors.map((e) => e.path.split('/').pop()).sort()).toEqual(
      Object.keys(cases)
        .map((n) => `${n}.safetensors`)
        .sort(),
    );
    const by = (n: string) => errors.find((e) => e.path.endsWith(`${n}.safetensors`))!;
    expect(by('truncated-31').error).toMatch(/data_offsets|past|end|length/);
    expect(by('json-bomb-33').error).toMatch(/header_length/);
    expect(by('bad-json-34').error).toMatch(/JSON/);
    expect(by('unknown-dtype-35').error).toMatch(/F128/);
    expect(by('overlap-37').error).toMatch(/overlap/);
    expect(by('missing-38').error).toMatch(/tensor 'J' \(J\): received "missing"/);
    expect(by('shape-39').error).toMatch(
      /tensor 'W'.shape: received "\[6, 19\]"; accepted: \[H, 20\]|tensor 'W'.shape: received "\[6, 19\]"; accepted: \[6, 20\]/,
    );
    expect(by('nan-40').error).toMatch(/tensor 'W': received "1 non-finite value \(NaN or Inf\)"/);
    expect(by('dup-10-again')).toMatchObject({ step: 10 });
    expect(by('dup-10-again').error).toMatch(/step 10 of 'bad' was already read from .*ckpt-10.safetensors/);
    expect(by('missing-38').step).toBe(38);
    expect(records.filter((r) => r.kind === 'run')).toHaveLength(1);
  });

  it('a file deleted between listing and reading is an error row, and the rest go on', async () => {
    const dir = join(root, 'deleted');
    mkdirSync(dir, { recursive: true });
    for (const s of [1, 2, 3]) writeFileSync(join(dir, `c-${s}.safetensors`), checkpoint(s));
    const got: Array<{ path: string; error?: string; ok: boolean }> = [];
    const order = <F extends { path: string }>(files: F[]) => {
      unlinkSync(files[1].path);
      return files;
    };
    for await (const f of readyFiles(dir, (n) => n.endsWith('.safetensors'), {}, order))
      got.push({ path: f.path, error: f.error, ok: !!f.bytes });
    expect(got.map((g) => g.ok)).toEqual([true, false, true]);
    expect(got[1].error).toMatch(/cannot read the file \(ENOENT/);
  });

  it("round trip: run --snapshots safetensors, then analyze, gives the run's own metric rows", async () => {
    const t = alignedParity({ d: 2, k: 2, alignment: 0.4, N: 12, sigma: 0.5, seed: 9 });
    const metrics: MetricRequest[] = ['kernel_alignment', 'ps', 'ccgp', { name: 'sd', steps: 'final' }];
    const pipeline = definePipeline({
      name: 'roundtrip',
      seed: 2,
      runs: ({ seed }) =>
        sweep({
          seed,
          grid: { activation: ['relu'] as const },
          seeds: 3,
          run: () => ({
            task: t,
            network: { activation: 'relu', width: 8 },
            training: { lr: 0.3, batch: 25, samples: 200, epochs: 4, checkpoints: { steps: [4, 16] } },
          }),
        }),
      process: () => pipe(train(), probe({ samplesPerCondition: 5 }), geometry({ metrics })),
    });
    const out = join(root, 'rt');
    const ran = await runPipeline(pipeline, { out, snapshots: 'safetensors' });
    const folders = readdirSync(join(ran.dir, 'snapshots'));
    expect(folders).toHaveLength(1);
    expect(readdirSync(join(ran.dir, 'snapshots', folders[0])).length).toBe(4); // steps 0, 4, 16 and the final one
    const analysed = await analyzeFiles({
      path: join(ran.dir, 'snapshots', folders[0]),
      task: t,
      activation: 'relu',
      samplesPerCondition: 5,
      metrics,
      out: join(root, 'rt-analysis'),
      name: 'again',
    });
    const a = (await metricRows(ran.dir)).filter((r) => r.metric !== 'loss' && r.metric !== 'accuracy');
    const b = await metricRows(analysed.dir);
    expect(b.length).toBe(a.length);
    const values = new Map(a.map((r) => [key(r), r.value]));
    for (const r of b) expect(r.value, key(r)).toBe(values.get(key(r)));
    const { rows: runs } = await queryResults(
      analysed.dir,
      'SELECT source, source_path, lr, epochs, seed, backend FROM runs',
    );
    expect(runs).toHaveLength(3);
    expect(runs[0]).toMatchObject({ source: 'checkpoints', lr: null, epochs: null, seed: null, backend: null });
    const { rows: trained } = await queryResults(ran.dir, 'SELECT DISTINCT source, source_path FROM runs');
    expect(trained).toEqual([{ source: 'trained', source_path: null }]);
  });
});

describe.skipIf(!python)('a Python producer', () => {
  it('analyze --watch takes every checkpoint once, as it is written, with the values computed in-process, live on --stream', async () => {
    const dir = join(root, 'live');
    mkdirSync(dir, { recursive: true });
    const producer = spawn('python3', [
      script('write_checkpoints.py'),
      dir,
      '12',
      '5',
      '0.15',
      String(task.N),
      '10',
      String(task.K),
      '3',
    ]);
    const producerDone = new Promise<number>((r) => producer.on('exit', (c) => r(c ?? -1)));
    // Start watching once the producer is up (Python's start-up under a loaded CI must not count as idle time).
    for (let i = 0; i < 600 && !readdirSync(dir).some((f) => f.endsWith('.safetensors')); i++)
      await new Promise((r) => setTimeout(r, 50));
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const summary = await analyzeFiles({
      path: dir,
      task,
      activation: 'tanh',
      map: MAP,
      watch: true,
      idleExit: 3,
      settle: 300,
      out: join(root, 'live-out'),
      stream,
    });
    expect(await producerDone).toBe(0);
    const rows = await metricRows(summary.dir);
    const steps = [...new Set(rows.map((r) => r.step))].sort((x, y) => x - y);
    expect(steps).toEqual(Array.from({ length: 12 }, (_, i) => i * 5));
    expect(rows.length).toBe(12 * new Set(rows.map((r) => `${r.metric}|${r.against}|${r.dichotomy}`)).size); // no step twice
    // In-process: the same weights, read back, through the metric functions directly.
    const map = tensorMap(MAP);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.safetensors'))) {
      const { tensors, metadata } = readSafetensors(readFileSync(join(dir, file)));
      const [params] = checkpointParams(tensors, map, task);
      const snap = {
        params,
        run: { network: { activation: 'tanh' }, task, data_seed: null, run_id: 'x', source_path: dir },
      } as unknown as WeightSnapshot;
      const rep = representationOf(snap);
      const step = Number(metadata.step);
      const at = (metric: string, against: string | null, dichotomy: string | null = null) =>
        rows.find((r) => r.step === step && r.metric === metric && r.against === against && r.dichotomy === dichotomy)!
          .value;
      expect(Math.abs(at('kernel_alignment', 'input') - linearCKA(rep.means, task.means))).toBeLessThan(1e-9);
      expect(
        Math.abs(at('kernel_alignment', 'target') - linearCKA(rep.means, signedTargets(task.targets))),
      ).toBeLessThan(1e-9);
      const pos = [0, 1, 2, 3, 4, 5, 6, 7].filter((p) => task.targets.data[p * 3] > 0.5);
      expect(Math.abs(at('ps', null, 'target0') - parallelismScore(rep.means, pos).value)).toBeLessThan(1e-9);
    }
    // The stream carried the same rows, readable by an Arrow IPC reader.
    const streamed = tableFromIPC(Buffer.concat(chunks));
    expect(streamed.numRows).toBe(rows.length);
    const manifest = JSON.parse(readFileSync(join(summary.dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ complete: true, stopped: 'idle for 3 s' });
  }, 60_000);

  it('activations from Parquet, Arrow, .npy and .npz give the CKA, PS and CCGP of the arrays', async () => {
    const dir = join(root, 'acts');
    const r = spawnSync('python3', [script('write_activations.py'), dir, '8', '6', '5', '1'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const activity = readNpy(readFileSync(join(dir, 'npy', 'acts-7.npy')));
    const conditions = Int32Array.from(readNpy(readFileSync(join(dir, 'conditions.npy'))).data);
    const n = activity.shape[0],
      H = activity.shape[1];
    const samples = { rows: n, cols: H, data: Float64Array.from(activity.data) };
    const means = { rows: 8, cols: H, data: new Float64Array(8 * H) };
    for (let i = 0; i < n; i++)
      for (let j = 0; j < H; j++) means.data[conditions[i] * H + j] += samples.data[i * H + j] / 6;
    const pos = [0, 1, 2, 3, 4, 5, 6, 7].filter((p) => task.targets.data[p * 3] > 0.5);
    const expected = {
      input: linearCKA(means, task.means),
      target: linearCKA(means, signedTargets(task.targets)),
      ps: parallelismScore(means, pos).value,
      ccgp: ccgp(samples, conditions, pos).value,
    };
    for (const sub of ['parquet', 'arrow', 'npy', 'npz']) {
      const records: StreamRecord[] = await lastValueFrom(
        fromActivations({ path: join(dir, sub), task, conditions: sub === 'npy' ? conditions : undefined }).pipe(
          geometry({ metrics: ['kernel_alignment', 'ps', 'ccgp'] }),
          toArray(),
        ),
      );
      const rows = records.filter((x): x is MetricRow => x.kind === 'metric');
      const get = (metric: string, against: string | null, dichotomy: string | null) =>
        rows.find((x) => x.metric === metric && x.against === against && x.dichotomy === dichotomy)!.value;
      expect(
        rows.every((x) => x.step === 7),
        sub,
      ).toBe(true);
      expect(Math.abs(get('kernel_alignment', 'input', null) - expected.input), sub).toBeLessThan(1e-9);
      expect(Math.abs(get('kernel_alignment', 'target', null) - expected.target), sub).toBeLessThan(1e-9);
      expect(Math.abs(get('ps', null, 'target0') - expected.ps), sub).toBeLessThan(1e-9);
      expect(Math.abs(get('ccgp', null, 'target0') - expected.ccgp), sub).toBeLessThan(1e-9);
    }
  }, 60_000);

  it('the CLI prints one stderr line per rejected file and exits 1, the dataset complete', () => {
    const dir = join(root, 'cli');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'task.json'), JSON.stringify(TASK));
    writeFileSync(join(dir, 'ckpt-1.safetensors'), checkpoint(1));
    writeFileSync(join(dir, 'ckpt-2.safetensors'), checkpoint(2).subarray(0, 50));
    const r = spawnSync(
      'node',
      [
        'bin/geomstream.js',
        'analyze',
        dir,
        '--task',
        join(dir, 'task.json'),
        '--activation',
        'tanh',
        '--out',
        join(root, 'cli-out'),
        '--no-progress',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.includes('ckpt-2.safetensors')),
    ).toHaveLength(1);
    expect(r.stdout).toMatch(/1 runs, \d+ metric rows, 1 files or metrics rejected/);
    const manifest = JSON.parse(readFileSync(join(root, 'cli-out', 'cli', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ complete: true, error_rows: 1 });
  }, 60_000);
});

describe.skipIf(!python)('fromArrowStream', () => {
  it('reads activation rows from a live Arrow IPC stream (a Python writer on a pipe), one batch per checkpoint', async () => {
    const code = `
import sys, time, numpy as np, pyarrow as pa
rng = np.random.default_rng(0)
cond = np.repeat(np.arange(8), 3).astype(np.int32)
schema = pa.schema([("condition", pa.int32()), ("step", pa.int64()), ("activity", pa.list_(pa.float32()))])
with pa.ipc.new_stream(sys.stdout.buffer, schema) as w:
    for step in range(3):
        act = rng.normal(size=(24, 4)).astype(np.float32)
        w.write_batch(pa.record_batch([pa.array(cond), pa.array(np.full(24, step)), pa.array(list(act), type=pa.list_(pa.float32()))], schema=schema))
        sys.stdout.flush(); time.sleep(0.1)
`;
    const child = spawn('python3', ['-c', code]);
    const { fromArrowStream } = await import('../src/sources/activations.js');
    const records = await lastValueFrom(
      fromArrowStream(child.stdout, { task, name: 'live' }).pipe(geometry({ metrics: ['ps'] }), toArray()),
    );
    const reps = records.filter((r) => r.kind === 'metric' && r.metric === 'ps');
    expect([...new Set(reps.map((r) => (r as MetricRow).step))]).toEqual([0, 1, 2]);
    expect(records.filter((r) => r.kind === 'run')).toHaveLength(1);
  }, 30_000);
});

describe('review cases', () => {
  it('a watched file deleted before it settled is forgotten, and idleExit still ends the watch', async () => {
    const dir = join(root, 'watch-delete');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ckpt-1.safetensors'), checkpoint(1));
    writeFileSync(join(dir, 'ckpt-2.safetensors'), checkpoint(2).subarray(0, 40)); // incomplete: pending
    const got: string[] = [];
    const t0 = performance.now();
    setTimeout(() => unlinkSync(join(dir, 'ckpt-2.safetensors')), 150);
    for await (const f of readyFiles(
      dir,
      (n) => n.endsWith('.safetensors'),
      { watch: true, idleExit: 0.5, settle: 5000, poll: 20 },
      (x) => x,
    ))
      got.push(f.path);
    expect(got.map((p) => p.split('/').pop())).toEqual(['ckpt-1.safetensors']);
    expect(performance.now() - t0).toBeLessThan(4000); // not held open by the forgotten file
  });
  it('activations: a bad highest-step file leaves the previous step final and adds no step to the run', async () => {
    const dir = join(root, 'acts-final');
    mkdirSync(dir, { recursive: true });
    const npz = (await import('../src/formats/npz.js')).writeNpz;
    const file = (rowsPerCondition: number) =>
      npz({
        activity: {
          dtype: 'F64',
          shape: [8 * rowsPerCondition, 3],
          data: Float64Array.from({ length: 24 * rowsPerCondition }, (_, i) => Math.sin(i)),
        },
        conditions: {
          dtype: 'I32',
          shape: [8 * rowsPerCondition],
          data: Int32Array.from({ length: 8 * rowsPerCondition }, (_, i) => i % 8),
        },
      });
    writeFileSync(join(dir, 'a-1.npz'), file(2));
    writeFileSync(join(dir, 'a-2.npz'), file(2));
    writeFileSync(join(dir, 'a-3.npz'), file(2).subarray(0, 100));
    const records = await lastValueFrom(fromActivations({ path: dir, task }).pipe(toArray()));
    const reps = records.filter((r) => r.kind === 'representation');
    expect(reps.map((r) => [r.step, (r as { final: boolean }).final])).toEqual([
      [1, false],
      [2, true],
    ]);
    const runs = records.filter((r) => r.kind === 'run');
    expect(runs.map((r) => (r as { steps: number }).steps)).toEqual([2]);
    expect(records.filter((r) => r.kind === 'error').map((r) => (r as ErrorRow).step)).toEqual([3]);
  });
  it('a metric that fails on one ingested representation is an error row; the other files keep their rows', async () => {
    const dir = join(root, 'acts-sd');
    mkdirSync(dir, { recursive: true });
    const npz = (await import('../src/formats/npz.js')).writeNpz;
    const file = (per: number) =>
      npz({
        activity: {
          dtype: 'F64',
          shape: [8 * per, 3],
          data: Float64Array.from({ length: 24 * per }, (_, i) => Math.cos(i * 1.3)),
        },
        conditions: { dtype: 'I32', shape: [8 * per], data: Int32Array.from({ length: 8 * per }, (_, i) => i % 8) },
      });
    writeFileSync(join(dir, 'a-1.npz'), file(4));
    writeFileSync(join(dir, 'a-2.npz'), file(1)); // one row per condition: no samples for sd
    const summary = await analyzeFiles({
      path: dir,
      task,
      metrics: [
        { name: 'kernel_alignment', against: 'target' },
        { name: 'sd', classifier: 'ridge', folds: 2 },
      ],
      out: join(root, 'acts-sd-out'),
    });
    const rows = await metricRows(summary.dir);
    expect(rows.filter((r) => r.metric === 'sd').map((r) => r.step)).toEqual([1]);
    expect(
      rows
        .filter((r) => r.metric === 'kernel_alignment')
        .map((r) => r.step)
        .sort(),
    ).toEqual([1, 2]);
    const { rows: errors } = await queryResults(
      summary.dir,
      `SELECT path, step, error FROM read_parquet('${join(summary.dir, 'errors', '*.parquet')}')`,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ step: 2, path: join(dir, 'a-2.npz') });
    expect(String(errors[0].error)).toMatch(
      /^sd \(run acts-sd, layer 1\): metrics: received "sd"; accepted: 'sd' only with noisy samples/,
    );
  });
  it('analyzeFiles rejects a bad sink option before touching the previous results', async () => {
    const dir = join(root, 'keep');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ckpt-1.safetensors'), checkpoint(1));
    const out = join(root, 'keep-out');
    await analyzeFiles({ path: dir, task, activation: 'tanh', out });
    const before = readdirSync(join(out, 'keep')).sort();
    await expect(analyzeFiles({ path: dir, task, activation: 'tanh', out, formats: ['csv' as never] })).rejects.toThrow(
      /formats: received "csv"/,
    );
    await expect(
      analyzeFiles({
        path: dir,
        task,
        activation: 'tanh',
        out,
        watch: true,
        metrics: [{ name: 'sd', steps: 'final' }],
        samplesPerCondition: 2,
      }),
    ).rejects.toThrow(/metrics\[0\].steps: received "final"; accepted: 'all' with watch/);
    await expect(analyzeFiles({ path: dir, task, activation: 'tanh', out, idleExit: 3 })).rejects.toThrow(
      /idleExit: received 3; accepted: no value without watch/,
    );
    expect(readdirSync(join(out, 'keep')).sort()).toEqual(before);
  });
  it('an empty metric stream is still a valid Arrow stream (the schema comes first)', async () => {
    const dir = join(root, 'empty-stream');
    mkdirSync(dir, { recursive: true });
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    await analyzeFiles({
      path: dir,
      task,
      activation: 'tanh',
      out: join(root, 'empty-stream-out'),
      stream,
      watch: true,
      idleExit: 0.3,
    });
    const t = tableFromIPC(Buffer.concat(chunks));
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toContain('metric');
  });
  it('geomstream task --out x.npz keeps the task (readTaskFile rebuilds the family, not an external task)', () => {
    const dir = join(root, 'npz-task');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'task.json'), JSON.stringify(TASK));
    const r = spawnSync(
      'node',
      ['bin/geomstream.js', 'task', join(dir, 'task.json'), '--out', join(dir, 'task.npz'), '--samples', '20'],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(readTaskFile(join(dir, 'task.npz')).id).toBe(task.id);
  });
});

describe('new-user cases', () => {
  it('deep-layer maps: a pattern without {l} is rejected at once; nn.Sequential names by layer; an unmapped H × H tensor is an error; ignore= leaves it out', () => {
    expect(() => tensorMap('W=0.weight,W_l=2.weight,b_l=2.bias')).toThrow(
      /map.W_l: received "2.weight"; accepted: a name with '\{l\}'/,
    );
    expect(() => tensorMap('W_3=4.weight,b_3=4.bias')).toThrow(/layer 2 is missing/);
    const H = 6,
      { N, K } = task;
    const f = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const tensors = new Map<string, Tensor>([
      ['0.weight', { dtype: 'F32', shape: [H, N], data: f(H * N) }],
      ['0.bias', { dtype: 'F32', shape: [H], data: f(H) }],
      ['2.weight', { dtype: 'F32', shape: [H, H], data: f(H * H) }],
      ['2.bias', { dtype: 'F32', shape: [H], data: f(H) }],
      ['4.weight', { dtype: 'F32', shape: [K, H], data: f(K * H) }],
      ['4.bias', { dtype: 'F32', shape: [K], data: f(K) }],
    ]);
    const [p] = checkpointParams(
      tensors,
      tensorMap('W=0.weight,b1=0.bias,W_2=2.weight,b_2=2.bias,J=4.weight,b2=4.bias'),
      task,
    );
    expect(p.layers).toHaveLength(1);
    expect(() => checkpointParams(tensors, tensorMap('W=0.weight,b1=0.bias,J=4.weight,b2=4.bias'), task)).toThrow(
      /tensor '2.weight': received "unmapped, shape \[6, 6\]"; accepted: a map naming every hidden layer/,
    );
    expect(
      checkpointParams(tensors, tensorMap('W=0.weight,b1=0.bias,J=4.weight,b2=4.bias,ignore=2.weight'), task)[0].layers,
    ).toBeUndefined();
    const jax = new Map(tensors);
    jax.set('0.weight', { dtype: 'F32', shape: [N, H], data: f(H * N) });
    expect(() =>
      checkpointParams(jax, tensorMap('W=0.weight,b1=0.bias,W_2=2.weight,b_2=2.bias,J=4.weight,b2=4.bias'), task),
    ).toThrow(/looks transposed/);
  });
  it('a folder whose first file fails the checks is rejected before the previous results are touched; torch.save files get a clear message', async () => {
    const dir = join(root, 'typo');
    mkdirSync(dir, { recursive: true });
    for (const s of [1, 2]) writeFileSync(join(dir, `ckpt-${s}.safetensors`), checkpoint(s));
    const out = join(root, 'typo-out');
    await analyzeFiles({ path: dir, task, activation: 'tanh', out });
    const before = readdirSync(join(out, 'typo')).sort();
    await expect(analyzeFiles({ path: dir, task, activation: 'tanh', out, map: 'J=fc2.weigth' })).rejects.toThrow(
      /path: received ".*ckpt-1.safetensors"; accepted: files that can be analysed, and the first one is not: tensor 'fc2.weigth' \(J\)/,
    );
    expect(readdirSync(join(out, 'typo')).sort()).toEqual(before);
    const pt = join(root, 'pt');
    mkdirSync(pt, { recursive: true });
    writeFileSync(join(pt, 'model-100.pt'), new Uint8Array([0x80, 0x02]));
    await expect(analyzeFiles({ path: pt, task, activation: 'tanh', out })).rejects.toThrow(
      /model-100.pt looks like a torch.save \(pickle\) file.*safetensors.torch.save_file/,
    );
    await expect(analyzeFiles({ path: join(pt, 'model-100.pt'), task, activation: 'tanh', out })).rejects.toThrow(
      /torch.save/,
    );
  });
  it('--watch: a checkpoint written slowly under its final name is read once complete, however long its writer pauses', async () => {
    const dir = join(root, 'slow');
    mkdirSync(dir, { recursive: true });
    const bytes = checkpoint(7);
    const path = join(dir, 'ckpt-7.safetensors');
    writeFileSync(path, bytes.subarray(0, 200));
    setTimeout(() => writeFileSync(path, bytes), 700); // the writer pauses longer than the settle time
    const got: ReadyFileLike[] = [];
    type ReadyFileLike = { path: string; error?: string; bytes?: Uint8Array };
    for await (const f of readyFiles(
      dir,
      (n) => n.endsWith('.safetensors'),
      { watch: true, idleExit: 1.5, settle: 200, poll: 20 },
      (x) => x,
    ))
      got.push(f);
    expect(got).toHaveLength(1);
    expect(got[0].error).toBeUndefined();
    expect(got[0].bytes!.length).toBe(bytes.length);
    // A file that never completes is an error row when the watch stops.
    const stuck = join(root, 'stuck');
    mkdirSync(stuck, { recursive: true });
    writeFileSync(join(stuck, 'ckpt-1.safetensors'), bytes.subarray(0, 200));
    const left: ReadyFileLike[] = [];
    for await (const f of readyFiles(
      stuck,
      (n) => n.endsWith('.safetensors'),
      { watch: true, idleExit: 0.3, settle: 50, poll: 20 },
      (x) => x,
    ))
      left.push(f);
    expect(left.map((f) => f.error)).toEqual([expect.stringMatching(/^incomplete when the watch stopped \(200 bytes/)]);
  });
  it('takes the step after "step" in a file name before the first integer', async () => {
    const { stepFromName } = await import('../src/sources/watch.js');
    expect(stepFromName('net_h128_step250.safetensors')).toBe(250);
    expect(stepFromName('ckpt-1200.safetensors')).toBe(1200);
    expect(stepFromName('final.safetensors')).toBeNull();
  });
});

describe('second review cases', () => {
  it('watching a single file reads it once and ends on idle', async () => {
    const dir = join(root, 'single');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'ckpt-3.safetensors');
    writeFileSync(file, checkpoint(3));
    const records = await lastValueFrom(
      fromCheckpoints({ path: file, task, network: { activation: 'tanh' }, watch: true, idleExit: 0.4, poll: 20 }).pipe(
        toArray(),
      ),
    );
    expect(records.filter((r) => r.kind === 'snapshot')).toHaveLength(1);
    expect(records.filter((r) => r.kind === 'error')).toEqual([]);
  });
  it('an abandoned watch stops polling (unsubscribing ends the source)', async () => {
    const dir = join(root, 'abandon');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ckpt-1.safetensors'), checkpoint(1));
    const { firstValueFrom, filter } = await import('rxjs');
    const first = await firstValueFrom(
      fromCheckpoints({ path: dir, task, network: { activation: 'tanh' }, watch: true, poll: 20 }).pipe(
        filter((r) => r.kind === 'snapshot'),
      ),
    );
    expect(first.kind).toBe('snapshot');
    // No idleExit and no signal: without the teardown the watcher would keep this test's process busy.
    const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    await new Promise((r) => setTimeout(r, 100));
    expect((process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length).toBeLessThanOrEqual(
      handles,
    );
  });
  it('a consumer that goes away (EPIPE) stops the stream, not the analysis', async () => {
    const dir = join(root, 'epipe');
    mkdirSync(dir, { recursive: true });
    for (const s of [1, 2, 3]) writeFileSync(join(dir, `ckpt-${s}.safetensors`), checkpoint(s));
    const r = spawnSync(
      'bash',
      [
        '-c',
        `node bin/geomstream.js analyze ${dir} --task ${join(root, 'cli', 'task.json')} --activation tanh --out ${join(root, 'epipe-out')} --stream - --no-progress | head -c 10 > /dev/null; echo "\${PIPESTATUS[0]}"`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe('0');
    const manifest = JSON.parse(readFileSync(join(root, 'epipe-out', 'epipe', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ complete: true });
    expect(manifest.metric_rows).toBeGreaterThan(0);
  });
});
