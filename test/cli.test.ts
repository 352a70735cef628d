/** The command line and the built package, as a user meets them. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'geomstream-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function cli(...args: string[]) {
  return spawnSync('node', ['bin/geomstream.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GEOMSTREAM_BACKEND: '' },
  });
}

describe('geomstream run', () => {
  it('runs the default pipeline (--quick), names the backend and prints the DuckDB summary', () => {
    const res = cli('run', 'pipelines/tanh-vs-relu.ts', '--out', out, '--quick', '--no-progress');
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/geomstream: backend (wasm|tensorflow|cpu)/);
    expect(res.stdout).toMatch(/tanh-vs-relu: 8 completed, 0 diverged, 0 failed of 8 runs/);
    expect(res.stdout).toMatch(
      /alignment\s+tanh_input\s+relu_input\s+input_diff_ci\s+tanh_target\s+relu_target\s+target_diff_ci\s.*holds/,
    );
    const manifest = JSON.parse(readFileSync(join(out, 'tanh-vs-relu', 'manifest.json'), 'utf8'));
    expect(manifest.complete).toBe(true);
  });
  it('--stream - writes the metric rows to stdout as an Arrow stream (summary on stderr); --snapshots safetensors writes what analyze reads', async () => {
    const { tableFromIPC } = await import('apache-arrow');
    const res = spawnSync(
      'node',
      [
        'bin/geomstream.js',
        'run',
        'pipelines/weight-dynamics.ts',
        '--quick',
        '--out',
        join(out, 's'),
        '--no-progress',
        '--stream',
        '-',
        '--snapshots',
        'safetensors',
      ],
      { cwd: root, env: { ...process.env, GEOMSTREAM_BACKEND: '' }, maxBuffer: 1 << 28 },
    );
    expect(res.status, String(res.stderr)).toBe(0);
    expect(String(res.stderr)).toMatch(/weight-dynamics: \d+ completed/);
    const rows = tableFromIPC(res.stdout);
    const manifest = JSON.parse(readFileSync(join(out, 's', 'weight-dynamics', 'manifest.json'), 'utf8'));
    expect(rows.numRows).toBe(manifest.metric_rows);
    expect(manifest.files.some((f: string) => /^snapshots\/.+\/step-\d{8}\.safetensors$/.test(f))).toBe(true);
    expect(cli('run', 'pipelines/weight-dynamics.ts', '--snapshots', 'pickle').stderr).toMatch(
      /--snapshots.*received 'pickle'; accepted: arrow, safetensors/,
    );
    expect(cli('run', 'pipelines/weight-dynamics.ts', '--stream', '/nonexistent/dir/rows.arrows').stderr).toMatch(
      /stream: received "\/nonexistent\/dir\/rows.arrows"; accepted: '-' or a file in a writable folder/,
    );
  });
  it('says so, with exit code 3, when a pipeline stalls instead of exiting silently', () => {
    const res = cli('run', 'test/stalled-pipeline.ts', '--out', out, '--no-progress');
    expect(res.status).toBe(3);
    expect(res.stderr).toMatch(
      /the pipeline stopped before finishing, with nothing left to wait on.*manifest says complete: false/,
    );
    expect(JSON.parse(readFileSync(join(out, 'stalled', 'manifest.json'), 'utf8')).complete).toBe(false);
  });
  it('rejects a missing pipeline file and a bad option with the field and what is accepted', () => {
    const missing = cli('run', 'pipelines/nope.ts', '--out', out);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(
      /pipeline: received "pipelines\/nope.ts"; accepted: the path of an existing pipeline file/,
    );
    const format = cli('run', 'pipelines/tanh-vs-relu.ts', '--format', 'csv');
    expect(format.status).not.toBe(0);
    expect(format.stderr).toMatch(/received 'csv'; accepted: parquet, arrow, ndjson/);
    const backend = cli('run', 'pipelines/tanh-vs-relu.ts', '--out', out, '--quick', '--backend', 'gpu');
    expect(backend.status).toBe(2);
    expect(backend.stderr).toMatch(/backend: received "gpu"; accepted: 'auto', 'tensorflow', 'wasm', 'cpu'/);
  });
});

describe('backends', () => {
  it('--backend cpu runs on the cpu backend and records it', () => {
    const res = cli(
      'run',
      'pipelines/tanh-vs-relu.ts',
      '--out',
      join(out, 'cpu'),
      '--quick',
      '--no-progress',
      '--backend',
      'cpu',
      '--workers',
      '1',
    );
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/geomstream: backend cpu/);
    expect(res.stdout).toMatch(/8 completed.*backend cpu/);
  });
  it('an explicit backend that cannot load is an error that says how to get it', () => {
    const res = cli('run', 'pipelines/tanh-vs-relu.ts', '--out', out, '--quick', '--backend', 'tensorflow');
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(
      /backend: received "tensorflow"; accepted: a backend that loads on this machine \(install it with `npm install @tensorflow\/tfjs-node`/,
    );
  });
});

describe('the built package', () => {
  it('builds to dist/ and exposes the geomstream and geomstream/metrics entry points', () => {
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    const check = spawnSync(
      'node',
      [
        '--input-type=module',
        '-e',
        `
      const m = await import('geomstream/metrics');
      const g = await import('geomstream');
      console.log(JSON.stringify({ cka: m.linearCKA([[0],[1],[2],[3]], [[0],[1],[4],[9]]), root: ['sweep', 'train', 'probe', 'geometry', 'writeResults', 'runPipeline'].every((k) => typeof g[k] === 'function') }));
    `,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(check.status, check.stderr).toBe(0);
    const r = JSON.parse(check.stdout);
    expect(r.cka).toBeCloseTo(45 / 49, 12);
    expect(r.root).toBe(true);
  });
});
