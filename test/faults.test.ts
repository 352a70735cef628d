/**
 * kill -9 in the middle of a pipeline leaves only complete files: every Parquet file in the
 * results folder reads, the manifest says the pipeline did not complete, and the runs that
 * finished are in runs.parquet with their metrics.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryResults } from '../src/query/index.js';

const root = new URL('..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'geomstream-kill-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a pipeline killed with SIGKILL', () => {
  it('leaves only complete, readable files', async () => {
    const child = spawn(
      'node',
      ['bin/geomstream.js', 'run', 'pipelines/tanh-vs-relu.ts', '--out', out, '--workers', '1', '--no-progress'],
      { cwd: root, stdio: 'ignore' },
    );
    const dir = join(out, 'tanh-vs-relu');
    // Wait until the first ensemble has finished (runs.parquet appears), then kill at once.
    for (let t = 0; t < 240 && !existsSync(join(dir, 'runs.parquet')); t++) await sleep(250);
    expect(existsSync(join(dir, 'runs.parquet'))).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.complete).toBe(false);
    const parts = readdirSync(join(dir, 'metrics'));
    // Temporary files are hidden (.name.*.tmp) and skipped by the *.parquet glob; every part reads.
    expect(parts.filter((f) => f.endsWith('.parquet')).every((f) => /^part-[0-9a-f]{12}-\d{3}\.parquet$/.test(f))).toBe(
      true,
    );
    const runs = await queryResults(dir, "SELECT count(*)::INTEGER AS n FROM runs WHERE status = 'completed'");
    expect(runs.rows[0].n as number).toBeGreaterThanOrEqual(5);
    const metrics = await queryResults(
      dir,
      'SELECT count(DISTINCT m.run_id)::INTEGER AS n FROM metrics m JOIN runs r USING (run_id)',
    );
    expect(metrics.rows[0].n as number).toBeGreaterThanOrEqual(5);
  });
});
