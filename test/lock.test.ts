/** One writer per dataset: a second writer stops at once, naming the first; a stale lock is taken over. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline } from '../src/index.js';
import { lockPath, lockResultsDir } from '../src/sinks/lock.js';
import { tinyPipeline } from './tiny-pipeline.js';

const out = mkdtempSync(join(tmpdir(), 'geomstream-lock-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const root = new URL('..', import.meta.url).pathname;

describe('the dataset lock', () => {
  it('refuses a second writer, naming the first, and leaves its folder alone', async () => {
    const dir = join(out, 'tiny');
    const release = lockResultsDir(dir);
    writeFileSync(join(dir, 'mine.txt'), 'x');
    await expect(runPipeline(tinyPipeline(), { out })).rejects.toThrow(
      new RegExp(`is being written by pid ${process.pid} on host ${hostname()}`),
    );
    expect(readdirSync(dir).sort()).toEqual(['.geomstream.lock', 'mine.txt']);
    release();
    expect(existsSync(lockPath(dir))).toBe(false);
    const summary = await runPipeline(tinyPipeline(), { out });
    expect(summary.runs.completed).toBe(8);
    expect(existsSync(lockPath(dir))).toBe(false); // released at the end
  });
  it('the whole dataset and its shards exclude each other', async () => {
    const dir = join(out, 'tiny');
    const shard = lockResultsDir(dir, { index: 0, count: 2 });
    await expect(runPipeline(tinyPipeline(), { out })).rejects.toThrow(
      /is being written by pid \d+ on host .*\.geomstream-shard-0-of-2\.lock/,
    );
    shard();
    const whole = lockResultsDir(dir);
    expect(() => lockResultsDir(dir, { index: 1, count: 2 })).toThrow(/is being written by pid/);
    whole();
  });
  it('takes over the lock of a process that no longer runs, with a warning', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const dir = join(out, 'tiny');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      lockPath(dir),
      JSON.stringify({ host: hostname(), pid: Number(dead.stdout), started: '2026-01-01T00:00:00Z' }),
    );
    const warnings: string[] = [];
    await runPipeline(tinyPipeline(), { out, onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`taking over the lock of pid ${dead.stdout}`))]);
  });
  it('the CLI refuses a folder another process is writing (exit 2, naming it), and writes it once the lock is gone', async () => {
    const dir = join(out, 'two', 'weight-dynamics');
    const release = lockResultsDir(dir); // held by this (live) test process
    const run = () =>
      spawnSync(
        'node',
        [
          'bin/geomstream.js',
          'run',
          'pipelines/weight-dynamics.ts',
          '--quick',
          '--out',
          join(out, 'two'),
          '--no-progress',
        ],
        { cwd: root, encoding: 'utf8' },
      );
    const refused = run();
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`is being written by pid ${process.pid} on host `));
    expect(readdirSync(dir)).toEqual(['.geomstream.lock']);
    release();
    const ok = run();
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(lockPath(dir))).toBe(false);
  }, 120_000);
});

describe('a run stopped by SIGTERM (scancel, preemption, kubectl delete)', () => {
  it('exits 3, leaves no lock, and a rerun resumes', async () => {
    const { spawn } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const dir = join(out, 'sigterm');
    const args = [
      'bin/geomstream.js',
      'run',
      'test/resumable-pipeline.ts',
      '--out',
      dir,
      '--workers',
      '1',
      '--no-progress',
    ];
    const child = spawn('node', args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // Once an ensemble is finished, ask it to stop.
    const manifest = join(dir, 'resumable', 'manifest.json');
    for (let t = 0; t < 600; t++) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).ensembles.length >= 1) break;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, stderr).toBe(3);
    expect(stderr).toMatch(/SIGTERM: stopped; the finished ensembles are in .*, a rerun resumes/);
    expect(readdirSync(join(dir, 'resumable')).filter((f) => f.endsWith('.lock'))).toEqual([]);
    const again = spawnSync('node', args, { cwd: root, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming .*: \d+ runs are complete there already/);
  }, 60_000);

  it('a lock holding our own pid on this host is a previous incarnation, taken over', () => {
    const dir = join(out, 'own-pid');
    mkdirSync(dir, { recursive: true });
    writeFileSync(lockPath(dir), JSON.stringify({ host: hostname(), pid: process.pid, started: 'earlier' }));
    const warnings: string[] = [];
    const release = lockResultsDir(dir, undefined, (w) => warnings.push(w));
    expect(warnings.join('\n')).toMatch(/taking over the lock of pid/);
    release();
    expect(existsSync(lockPath(dir))).toBe(false);
  });
});
