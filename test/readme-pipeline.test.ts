/**
 * The README's "Writing a pipeline" example is true: the TypeScript block, saved as
 * pipelines/xor-width.ts would be, runs with each of the shell block's commands.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Writing a pipeline'), readme.indexOf('### The building blocks'));
const ts = /```ts\n([\s\S]*?)```/.exec(section)![1];
const sh = /```sh\n([\s\S]*?)```/
  .exec(section)![1]
  .split('\n')
  .map((l) => l.replace(/#.*$/, '').trim())
  .filter(Boolean);
// Beside pipelines/, so that its '../src/index.js' import resolves as in the README.
const folder = join(root, '.readme-test');
const out = mkdtempSync(join(tmpdir(), 'geomstream-readme-pipeline-'));
afterAll(() => {
  // Only this test's file: test/readme-blocks.test.ts may have its own there at the same time.
  rmSync(join(folder, 'xor-width.ts'), { force: true });
  try {
    rmdirSync(folder);
  } catch {
    /* not empty, or gone */
  }
  rmSync(out, { recursive: true, force: true });
});

describe('README: Writing a pipeline', () => {
  it('the example pipeline runs with every command shown', () => {
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'xor-width.ts');
    writeFileSync(file, ts.replace(/^\/\/ pipelines\/xor-width\.ts\n/, ''));
    expect(sh).toHaveLength(3);
    const outputs = sh.map((line) => {
      const args = line
        .split(/\s+/)
        .slice(2)
        .map((a) => (a === 'pipelines/xor-width.ts' ? file : a === 'results' ? out : a));
      const r = spawnSync(
        'node',
        ['bin/geomstream.js', ...args, ...(args.includes('--list-params') ? [] : ['--no-progress'])],
        { cwd: root, encoding: 'utf8' },
      );
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
      return r.stdout;
    });
    expect(outputs[0]).toMatch(/final target alignment[\s\S]*relu\s+16[\s\S]*tanh\s+64/);
    expect(outputs[1]).toMatch(/^widths\s+number\[\]\s+16,64$/m);
    expect(outputs[1]).toMatch(/^seeds\s+number\s+4$/m);
    // The grid grew: the first run's ensembles are kept, width 32 is trained.
    expect(outputs[2]).toMatch(/4 ensembles kept from before, 2 written now/);
    expect(outputs[2]).toMatch(/relu\s+32/);
  }, 120_000);
});
