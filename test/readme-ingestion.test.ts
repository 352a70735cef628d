/**
 * The README's "Analyse your own checkpoints" section, run as written: its shell block (the task
 * export; the PyTorch trainer when torch is installed, else the numpy producer with the same
 * tensor names; analyze --watch --stream into the section's Python reader) and its Python snippet.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('## Analyse your own checkpoints'),
  readme.indexOf('## The results folder'),
);
const blocks = (lang: string) =>
  [...section.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]);
/** The shell block's commands (continuation lines joined, comments dropped). */
const commands = blocks('sh')[0]
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

const py = spawnSync('python3', ['-c', 'import numpy, safetensors, pyarrow'], { encoding: 'utf8' });
if (py.status !== 0 && process.env.CI)
  throw new Error(`python3 with numpy, safetensors and pyarrow is required in CI: ${py.stderr}`);
const torch = spawnSync('python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe.skipIf(py.status !== 0)('README: Analyse your own checkpoints', () => {
  it('has the three commands and a Python reader', () => {
    expect(commands).toHaveLength(3);
    expect(commands[0]).toMatch(/^node bin\/geomstream.js task /);
    expect(commands[1]).toMatch(/^python3 examples\/pytorch\/train.py .*&$/);
    expect(commands[2]).toMatch(
      /^node bin\/geomstream.js analyze .* --watch .*\| python3 examples\/pytorch\/read_stream.py$/,
    );
    expect(blocks('python')).toHaveLength(1);
  });

  it('runs as written: rows for every checkpoint, on disk and live through the reader', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'geomstream-readme-'));
    const here = (c: string) => c.replaceAll('/tmp/', `${tmp}/`);
    const task = spawnSync('bash', ['-c', here(commands[0])], { cwd: root, encoding: 'utf8' });
    expect(task.stderr).toBe('');
    expect(task.status).toBe(0);
    // The trainer: PyTorch as in the README when installed; else the numpy producer, same tensor names.
    const trainer = torch
      ? spawn('bash', ['-c', here(commands[1]).replace(/&$/, '').replace('--epochs 10', '--epochs 2')], { cwd: root })
      : spawn(
          'python3',
          [join(root, 'test/python/write_checkpoints.py'), `${tmp}/ckpts`, '8', '50', '0.1', '100', '128', '3'],
          { cwd: root },
        );
    const trained = new Promise<number>((r) => trainer.on('exit', (c) => r(c ?? -1)));
    // A longer idle exit than the README's 10 s: on a loaded machine torch's import alone can take that long.
    const analyze = here(commands[2])
      .replace(' --stream -', ` --out ${tmp}/results --stream -`)
      .replace('--idle-exit 10', '--idle-exit 30');
    const r = spawnSync('bash', ['-c', analyze], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(await trained).toBe(0);
    expect(r.status, r.stderr).toBe(0);
    // examples/pytorch/read_stream.py prints "step against value" per kernel-alignment row.
    const lines = r.stdout.trim().split('\n');
    const checkpoints = readdirSync(join(tmp, 'ckpts')).filter((f) => f.endsWith('.safetensors')).length;
    expect(checkpoints).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBe(2 * checkpoints); // input and target at every checkpoint, none lost
    for (const l of lines) expect(l).toMatch(/^\d+ (input|target) -?\d\.\d+$/);
    const manifest = JSON.parse(readFileSync(join(tmp, 'results', 'ckpts', 'manifest.json'), 'utf8'));
    expect(manifest.complete).toBe(true);
    expect(manifest.metric_rows).toBeGreaterThan(0);
    expect(manifest.error_rows).toBe(0);
    // The README's Python snippet reads the same stream (here saved to a file by --stream PATH).
    writeFileSync(join(tmp, 'reader.py'), blocks('python')[0]);
    const saved = spawnSync(
      'bash',
      [
        '-c',
        `node bin/geomstream.js analyze ${tmp}/ckpts --task examples/pytorch/task.json --activation tanh --map W=fc1.weight,b1=fc1.bias,J=fc2.weight,b2=fc2.bias --out ${tmp}/again --stream ${tmp}/rows.arrows --no-progress && python3 ${tmp}/reader.py < ${tmp}/rows.arrows`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(saved.status, saved.stderr).toBe(0);
    expect(saved.stdout).toMatch(/run_id\s+step\s+metric\s+against\s+dichotomy\s+value/);
  }, 150_000);
});
