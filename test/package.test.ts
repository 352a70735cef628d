/**
 * The package as a user gets it: `npm pack`, installed into a new project with plain Node ESM;
 * every entry point imported, a pipeline run through the API and through the installed CLI, and
 * the results read back through 'geomstream/query'.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const project = mkdtempSync(join(tmpdir(), 'geomstream-package-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const run = (cmd: string, args: string[], cwd: string) =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 });

describe('the packed package', () => {
  it('installs into a new project, imports from plain Node ESM and runs a pipeline', () => {
    const pack = run('npm', ['pack', '--pack-destination', project, '--silent'], root);
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = readdirSync(project).find((f) => f.endsWith('.tgz'))!;
    expect(tarball).toMatch(/^geomstream-\d+\.\d+\.\d+\.tgz$/);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'user-project', version: '1.0.0', type: 'module', private: true }),
    );
    const install = run(
      'npm',
      ['install', `./${tarball}`, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
      project,
    );
    expect(install.status, install.stderr).toBe(0);
    writeFileSync(
      join(project, 'use.mjs'),
      `
      import { linearCKA } from 'geomstream/metrics';
      import { definePipeline, runPipeline, sweep, alignedParity, train, probe, geometry, fromCheckpoints } from 'geomstream';
      import { queryResults } from 'geomstream/query';
      import { pipe } from 'rxjs';
      const p = definePipeline({
        name: 'user', seed: 1,
        runs: ({ seed }) => sweep({ seed, grid: { activation: ['tanh'] }, seeds: 2, run: (_p, s) => ({
          task: alignedParity({ d: 2, k: 1, alignment: 0.5, N: 10, sigma: 0.5, seed: s.task }),
          network: { activation: 'tanh', width: 8 }, training: { lr: 0.2, batch: 20, samples: 100, epochs: 2 } }) }),
        process: () => pipe(train(), probe(), geometry({ metrics: ['kernel_alignment'] })),
      });
      const summary = await runPipeline(p, { out: 'results' });
      const { rows } = await queryResults(summary.dir, "SELECT count(*)::INT AS n FROM metrics WHERE metric = 'kernel_alignment'");
      console.log(JSON.stringify({ cka: linearCKA([[0], [1], [2], [3]], [[0], [1], [4], [9]]), rows: rows[0].n, ingest: typeof fromCheckpoints }));
    `,
    );
    const use = run('node', ['use.mjs'], project);
    expect(use.status, use.stderr).toBe(0);
    const r = JSON.parse(use.stdout.trim().split('\n').pop()!);
    expect(r.cka).toBeCloseTo(45 / 49, 12);
    expect(r.rows).toBeGreaterThan(0);
    expect(r.ingest).toBe('function');
    const version = run('npx', ['--no-install', 'geomstream', '--version'], project);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const cli = run(
      'npx',
      [
        '--no-install',
        'geomstream',
        'run',
        'node_modules/geomstream/pipelines/weight-dynamics.ts',
        '--quick',
        '--out',
        'cli-results',
        '--no-progress',
      ],
      project,
    );
    expect(cli.status, cli.stderr).toBe(0);
    expect(readdirSync(join(project, 'cli-results'))).toEqual(['weight-dynamics']);
  }, 600_000);
});
