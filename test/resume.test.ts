/**
 * Existing datasets (`--if-exists resume|overwrite|error`): a rerun keeps what is complete and
 * trains the rest; after kill -9 at any moment, a resumed run completes the dataset row for row
 * and value for value as an uninterrupted run, with every format and snapshots; a dataset of
 * another configuration is refused, untouched; overwrite never deletes a file geomstream did not write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { queryResults } from '../src/query/index.js';
import { walk } from './helpers.js';
import { runPipeline, selectShard } from '../src/pipeline.js';
import { tinyPipeline } from './tiny-pipeline.js';
import resumable from './resumable-pipeline.js';
import type { TrainedRunSpec } from '../src/types.js';

const root = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'geomstream-resume-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const BASE = ['--format', 'arrow,ndjson', '--no-progress'];

/**
 * Run the CLI; with `kill`, kill -9 it once its manifest lists `kill.ensembles` finished ensembles
 * (0: once the manifest first appears — every check has passed, training starts), `kill.ms` later.
 * Moments defined by progress, not by the clock, fall within the writing however loaded the machine is.
 */
function cli(
  args: string[],
  kill?: { ensembles: number; ms: number },
  dataset?: string,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('node', ['bin/geomstream.js', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let timer: NodeJS.Timeout | null = null;
    const watch = setInterval(() => {
      if (!kill || !dataset || timer) return;
      try {
        const m = JSON.parse(readFileSync(join(dataset, 'manifest.json'), 'utf8'));
        if ((m.ensembles?.length ?? 0) >= kill.ensembles) timer = setTimeout(() => child.kill('SIGKILL'), kill.ms);
      } catch {
        /* not there yet, or being renamed */
      }
    }, 5);
    child.once('exit', (code) => {
      clearInterval(watch);
      if (timer) clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const sorted = (rows: unknown[]) =>
  rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))).sort();

/** The dataset's content, independent of part names and of wall times. */
async function content(dir: string) {
  const q = async (sql: string) => sorted((await queryResults(dir, sql)).rows);
  const arrowRows = (f: string) =>
    sorted(
      tableFromIPC(readFileSync(join(dir, f)))
        .toArray()
        .map((r) => r.toJSON()),
    );
  return {
    runs: await q('SELECT * EXCLUDE (wall_time_s) FROM runs'),
    metrics: await q('SELECT * FROM metrics'),
    neurons: await q('SELECT * FROM neurons'),
    field: await q('SELECT * FROM field'),
    metricsArrow: arrowRows('metrics.arrows'),
    snapshots: existsSync(join(dir, 'snapshots.arrows')) ? arrowRows('snapshots.arrows') : [],
    snapshotFiles: existsSync(join(dir, 'snapshots'))
      ? walk(join(dir, 'snapshots'))
          .sort()
          .map((f) => [f, readFileSync(join(dir, 'snapshots', f)).toString('base64')])
      : [],
    metricsNdjson: readFileSync(join(dir, 'metrics.ndjson'), 'utf8').trim().split('\n').sort(),
    runsNdjson: readFileSync(join(dir, 'runs.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const { wall_time_s: _w, ...r } = JSON.parse(l);
        return JSON.stringify(r);
      })
      .sort(),
  };
}

/** The manifest is true: complete, it lists every data file there is and only those, and no temporary file is left. */
function checkClean(dir: string) {
  const files = walk(dir);
  expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  expect(manifest.complete).toBe(true);
  for (const f of manifest.files) expect(existsSync(join(dir, f)), f).toBe(true);
  expect(files.filter((f) => !f.startsWith('.geomstream') && !manifest.files.includes(f)).sort()).toEqual([]);
}

describe('kill -9 at any moment, then resume', () => {
  // Both snapshot formats: snapshots.arrows (joined from segments at the end) and safetensors files (written per step).
  const modes = [
    ['--snapshots', 'arrow'],
    ['--snapshots', 'safetensors'],
  ];
  const reference: Array<Awaited<ReturnType<typeof content>>> = [];
  beforeAll(async () => {
    for (const [m, mode] of modes.entries()) {
      const ref = join(out, `reference-${m}`);
      const r = await cli(['run', 'test/resumable-pipeline.ts', '--out', ref, ...BASE, ...mode, '--workers', '1']);
      expect(r.code, r.stderr).toBe(0);
      reference.push(await content(join(ref, 'resumable')));
    }
    expect(reference[0].runs).toHaveLength(24);
    expect(reference[0].metrics.length).toBeGreaterThan(500);
    expect(reference[0].metricsArrow).toHaveLength(reference[0].metrics.length);
    expect(reference[0].snapshots.length).toBeGreaterThan(0);
    expect(reference[1].snapshotFiles.length).toBeGreaterThan(0);
  }, 60_000);

  it('completes the dataset exactly as an uninterrupted run, at 10 random moments', async () => {
    // Moments from a fixed seed (printed on failure): after 0–11 of the 12 ensembles, plus 0–150 ms.
    let s = 20261201;
    const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const keptRuns: number[] = [];
    for (let i = 0; i < 10; i++) {
      const dir = join(out, `killed-${i}`);
      const at = { ensembles: Math.floor(12 * rand()), ms: Math.round(150 * rand()) };
      const mode = modes[i % 2];
      const workers = i % 4 < 2 ? '1' : '2';
      const killed = await cli(
        ['run', 'test/resumable-pipeline.ts', '--out', dir, ...BASE, ...mode, '--workers', workers],
        at,
        join(dir, 'resumable'),
      );
      const resumed = await cli([
        'run',
        'test/resumable-pipeline.ts',
        '--out',
        dir,
        ...BASE,
        ...mode,
        '--workers',
        workers,
      ]);
      const what = `moment ${i}: killed ${at.ms} ms after ${at.ensembles} ensembles (exit ${killed.code}), ${mode.join(' ')}, --workers ${workers}`;
      expect(resumed.code, `${what}: ${resumed.stderr}`).toBe(0);
      const d = join(dir, 'resumable');
      checkClean(d);
      expect(await content(d), what).toEqual(reference[i % 2]);
      keptRuns.push(Number(/resuming .*?: (\d+) runs are complete/.exec(resumed.stderr)?.[1] ?? 0));
    }
    // The moments fell mid-run: resumes kept part of the dataset and trained the rest.
    expect(keptRuns.filter((n) => n > 0 && n < 24).length, `runs kept: ${keptRuns}`).toBeGreaterThanOrEqual(5);
  }, 300_000);
});

describe('--if-exists', () => {
  it('resume: a second run keeps every ensemble and trains nothing, with the same summary', async () => {
    const dir = join(out, 'twice');
    const a = await runPipeline(tinyPipeline(), { out: dir });
    const before = statSync(join(a.dir, 'runs.parquet')).mtimeMs;
    let trained = -1;
    const b = await runPipeline(tinyPipeline(), {
      out: dir,
      onStart: (i) => {
        trained = i.runs;
      },
    });
    expect(trained).toBe(0);
    expect(b.ensembles).toEqual({ kept: 4, written: 0 });
    expect(b.runs).toEqual(a.runs);
    expect(b.metricRows).toBe(a.metricRows);
    expect(statSync(join(a.dir, 'runs.parquet')).mtimeMs).toBe(before);
  });

  it('resume: a grid that grew trains only the new ensembles; the dataset equals a fresh run of the larger grid', async () => {
    const grown = join(out, 'grown');
    await runPipeline(tinyPipeline({ lrs: [0.2] }), { out: grown });
    let trained = -1;
    const b = await runPipeline(tinyPipeline({ lrs: [0.2, 0.1] }), {
      out: grown,
      onStart: (i) => {
        trained = i.runs;
      },
    });
    expect(trained).toBe(8);
    expect(b.ensembles).toEqual({ kept: 4, written: 4 });
    const fresh = await runPipeline(tinyPipeline({ lrs: [0.2, 0.1] }), { out: join(out, 'fresh') });
    for (const sql of ['SELECT * EXCLUDE (wall_time_s) FROM runs', 'SELECT * FROM metrics']) {
      expect(sorted((await queryResults(b.dir, sql)).rows)).toEqual(sorted((await queryResults(fresh.dir, sql)).rows));
    }
  });

  it('resume refuses a dataset of another configuration, saying what differs, and leaves it byte for byte', async () => {
    const dir = join(out, 'other-config');
    const a = await runPipeline(tinyPipeline(), { out: dir });
    const snapshot = () =>
      walk(a.dir)
        .filter((f) => !f.startsWith('.geomstream'))
        .map((f) => [f, readFileSync(join(a.dir, f)).toString('base64')]);
    const before = snapshot();
    await expect(runPipeline(tinyPipeline(), { out: dir, seed: 4 })).rejects.toThrow(
      /was written with seed 3 \(now 4\); --if-exists overwrite to replace/,
    );
    await expect(runPipeline(tinyPipeline(), { out: dir, formats: ['arrow'] })).rejects.toThrow(
      /formats \[\] \(now \["arrow"\]\)/,
    );
    await expect(runPipeline(tinyPipeline({ lrs: [0.1] }), { out: dir })).rejects.toThrow(
      /holds ensembles this run does not have/,
    );
    expect(snapshot()).toEqual(before);
  });

  it("error refuses any dataset there; overwrite replaces only geomstream's files", async () => {
    const dir = join(out, 'overwrite');
    const a = await runPipeline(tinyPipeline(), { out: dir });
    await expect(runPipeline(tinyPipeline(), { out: dir, ifExists: 'error' })).rejects.toThrow(
      /if-exists: received "error"; accepted: a folder without this dataset/,
    );
    writeFileSync(join(a.dir, 'notes.txt'), 'mine');
    writeFileSync(join(a.dir, 'metrics', 'my-extra.parquet'), 'mine');
    mkdirSync(join(a.dir, 'neurons'));
    writeFileSync(join(a.dir, 'neurons', 'keep.me'), 'mine');
    const b = await runPipeline(tinyPipeline(), { out: dir, ifExists: 'overwrite', seed: 4 });
    expect(b.ensembles).toEqual({ kept: 0, written: 4 });
    expect(readFileSync(join(a.dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(a.dir, 'metrics', 'my-extra.parquet'), 'utf8')).toBe('mine');
    expect(readFileSync(join(a.dir, 'neurons', 'keep.me'), 'utf8')).toBe('mine');
    const manifest = JSON.parse(readFileSync(join(a.dir, 'manifest.json'), 'utf8'));
    expect(manifest.configuration.seed).toBe(4);
    expect(readdirSync(join(a.dir, 'metrics')).filter((f) => f.startsWith('part-'))).toHaveLength(4);
  });

  it('a missing part is noticed: its ensemble is trained again', async () => {
    const dir = join(out, 'lost-part');
    const a = await runPipeline(tinyPipeline(), { out: dir });
    const part = readdirSync(join(a.dir, 'metrics'))[0];
    rmSync(join(a.dir, 'metrics', part));
    const warnings: string[] = [];
    const b = await runPipeline(tinyPipeline(), { out: dir, onWarning: (w) => warnings.push(w) });
    expect(warnings.join('\n')).toMatch(new RegExp(`metrics/${part} missing, trained again`));
    expect(b.ensembles).toEqual({ kept: 3, written: 1 });
    expect(b.metricRows).toBe(a.metricRows);
    expect(existsSync(join(a.dir, 'metrics', part))).toBe(true);
  });

  it("files with names close to geomstream's survive a resume and an overwrite", async () => {
    const dir = join(out, 'near-names');
    const a = await runPipeline(tinyPipeline(), { out: dir, snapshots: 'safetensors' });
    const mine = [
      'metrics.parquet',
      'runs.json',
      'metrics.json',
      'metrics/part-0.parquet',
      'metrics/part-0123456789ab.parquet',
      'neurons/part-1.parquet',
      'field/part-0123456789ab.parquet',
      'snapshots/mine/step-5.safetensors',
      'snapshots/mine/step-00000005.safetensors',
      '.geomstream-segments/notes.txt',
    ];
    for (const f of mine) {
      mkdirSync(join(a.dir, f, '..'), { recursive: true });
      writeFileSync(join(a.dir, f), 'mine');
    }
    await runPipeline(tinyPipeline(), { out: dir, snapshots: 'safetensors' });
    await runPipeline(tinyPipeline(), { out: dir, snapshots: 'safetensors', ifExists: 'overwrite' });
    for (const f of mine) expect(readFileSync(join(a.dir, f), 'utf8'), f).toBe('mine');
  });

  it('the stream files hold each row once, in ensemble order, whatever a resume retrains', async () => {
    const opts = { formats: ['arrow', 'ndjson'] as ('arrow' | 'ndjson')[], snapshots: true, workers: 1 };
    const ref = await runPipeline(resumable, { out: join(out, 'stream-ref'), ...opts });
    const expected = await content(ref.dir);
    const order = (d: string) =>
      tableFromIPC(readFileSync(join(d, 'metrics.arrows')))
        .toArray()
        .map((r) => `${r.run_id} ${r.step} ${r.metric} ${r.against} ${r.dichotomy}`);
    // A part lost from a complete dataset: its ensemble is retrained.
    const lost = join(out, 'stream-lost');
    const a = await runPipeline(resumable, { out: lost, ...opts });
    rmSync(join(a.dir, 'metrics', readdirSync(join(a.dir, 'metrics')).sort()[0]));
    const b = await runPipeline(resumable, { out: lost, ...opts });
    expect(b.ensembles).toEqual({ kept: 11, written: 1 });
    expect(await content(b.dir)).toEqual(expected);
    expect(order(b.dir)).toEqual(order(ref.dir));
    // Killed after the stream files were renamed into place, before the manifest said complete.
    const late = join(out, 'stream-late');
    const c = await runPipeline(resumable, { out: late, ...opts });
    const manifest = JSON.parse(readFileSync(join(c.dir, 'manifest.json'), 'utf8'));
    writeFileSync(join(c.dir, 'manifest.json'), JSON.stringify({ ...manifest, complete: false }));
    await runPipeline(resumable, { out: late, ...opts });
    expect(await content(c.dir)).toEqual(expected);
  }, 60_000);

  it('rejects an unknown mode', async () => {
    await expect(runPipeline(tinyPipeline(), { out, ifExists: 'append' as never })).rejects.toThrow(
      /ifExists: received "append"; accepted: 'resume' \| 'overwrite' \| 'error'/,
    );
  });
});

describe('shards', () => {
  it('are balanced by cost, whole ensembles, deterministic', async () => {
    const runs = await lastValueFrom(
      (
        resumable.runs({
          quick: false,
          params: {},
          seed: 5,
          train: {},
          workers: 1,
          pool: null,
        }) as Observable<TrainedRunSpec>
      ).pipe(toArray()),
    );
    // Make one ensemble 10 times as costly as the others: its shard takes nothing else.
    const costly = runs.map((r) =>
      r.ensemble_id === runs[0].ensemble_id ? { ...r, training: { ...r.training, epochs: 200 } } : r,
    );
    const shards = [0, 1, 2].map((index) => selectShard(costly, { index, count: 3 }));
    expect(
      shards
        .flat()
        .map((r) => r.run_id)
        .sort(),
    ).toEqual(costly.map((r) => r.run_id).sort());
    const steps = shards.map((s) => s.reduce((n, r) => n + r.training.epochs, 0));
    expect(shards[0].every((r) => r.ensemble_id === runs[0].ensemble_id)).toBe(true);
    expect(Math.abs(steps[1] - steps[2])).toBeLessThanOrEqual(2 * 20); // one ensemble: 2 runs of 20 epochs
    expect(selectShard(costly, { index: 1, count: 3 })).toEqual(shards[1]);
  });

  it('a shard resumes on its own; the union equals the unsharded run', async () => {
    const dir = join(out, 'sharded');
    const whole = await runPipeline(tinyPipeline(), { out: join(out, 'unsharded') });
    await runPipeline(tinyPipeline(), { out: dir, shard: { index: 0, count: 2 } });
    await runPipeline(tinyPipeline(), { out: dir, shard: { index: 1, count: 2 } });
    const again = await runPipeline(tinyPipeline(), { out: dir, shard: { index: 1, count: 2 } });
    expect(again.ensembles.written).toBe(0);
    const d = join(dir, 'tiny');
    for (const sql of ['SELECT * EXCLUDE (wall_time_s) FROM runs', 'SELECT * FROM metrics']) {
      expect(sorted((await queryResults(d, sql)).rows)).toEqual(sorted((await queryResults(whole.dir, sql)).rows));
    }
    // The README's query over all shards (section "Reruns, crashes and clusters") reads them as one dataset.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Reruns, crashes and clusters'),
      readme.indexOf('## The results folder'),
    );
    const sql = /```sql\n([\s\S]*?)```/.exec(section)![1].replaceAll('results/tanh-vs-relu', d).replace(/;\s*$/, '');
    const viaReadme = await queryResults(d, sql);
    const direct = await queryResults(
      whole.dir,
      "SELECT r.activation, avg(m.value) FROM metrics m JOIN runs r USING (run_id) WHERE m.metric = 'kernel_alignment' GROUP BY r.activation",
    );
    const rounded = (rows: Array<Record<string, unknown>>) =>
      sorted(rows.map((r) => Object.values(r).map((v) => (typeof v === 'number' ? v.toFixed(10) : v))));
    expect(viaReadme.rows).toHaveLength(2);
    expect(rounded(viaReadme.rows)).toEqual(rounded(direct.rows));
    // Layouts do not mix: an unsharded resume, or shards of another count, are refused.
    await expect(runPipeline(tinyPipeline(), { out: dir })).rejects.toThrow(/holds the shards of a --shard run/);
    await expect(runPipeline(tinyPipeline(), { out: dir, shard: { index: 0, count: 3 } })).rejects.toThrow(
      /holds shards of 2/,
    );
    // A shard of another configuration is refused whatever the mode.
    await expect(
      runPipeline(tinyPipeline(), { out: dir, shard: { index: 0, count: 2 }, seed: 9, ifExists: 'overwrite' }),
    ).rejects.toThrow(/shards of one configuration/);
  });

  it('geomstream status: per shard, and exit 0 only when complete', async () => {
    const dir = join(out, 'status');
    await runPipeline(tinyPipeline(), { out: dir, shard: { index: 0, count: 3 } });
    const partial = await cli(['status', join(dir, 'tiny')]);
    expect(partial.code).toBe(3);
    await runPipeline(tinyPipeline(), { out: dir, shard: { index: 1, count: 3 } });
    await runPipeline(tinyPipeline(), { out: dir, shard: { index: 2, count: 3 } });
    const done = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn('node', ['bin/geomstream.js', 'status', join(dir, 'tiny')], { cwd: root });
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.once('exit', (code) => resolve({ code, stdout }));
    });
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(
      /shard 0\/3: complete; \d\/\d ensembles, \d runs \(\d completed, 0 diverged, 0 failed\)/,
    );
    expect(done.stdout.trim().split('\n').pop()).toBe('complete');
  });
});
