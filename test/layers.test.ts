// The layers of docs/architecture.md, checked two ways: statically (what each file imports) and at
// run time (what importing an entry point actually loads, in a child process).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cycles, importGraph, reach, SRC } from './layers/imports.js';

const runtime = importGraph({ types: false });
const loads = (file: string) => [...reach(runtime, file)];

/** Files of a layer, by folder or name. */
const inLayer = (prefixes: string[]) =>
  [...runtime.keys()].filter((f) => prefixes.some((p) => f === p || f.startsWith(p)));

describe('layers (static imports)', () => {
  it('has no import cycle, type imports included', () => {
    expect(cycles(importGraph())).toEqual([]);
  });
  it('pure maths, kernels and metrics load no RxJS, tfjs, wabt, worker code, engine, operators, sinks or CLI', () => {
    for (const f of inLayer([
      'maths/',
      'kernels/',
      'metrics/',
      'activations.ts',
      'types.ts',
      'errors.ts',
      'random.ts',
    ])) {
      const bad = loads(f).filter((m) =>
        /^(rxjs|@tensorflow|wabt|@duckdb|apache-arrow|node:worker_threads)|^(engine|parallel|operators|sinks|cli|sources)\//.test(
          m,
        ),
      );
      expect({ file: f, bad }).toEqual({ file: f, bad: [] });
    }
  });
  it('sources load no tfjs, DuckDB, worker code, engine, operators, sinks or CLI', () => {
    for (const f of inLayer(['sources/'])) {
      const bad = loads(f).filter((m) =>
        /^(@tensorflow|wabt|@duckdb|node:worker_threads)|^(engine|parallel|operators|sinks|cli)\//.test(m),
      );
      expect({ file: f, bad }).toEqual({ file: f, bad: [] });
    }
  });
  it('the engine uses nothing above it (operators, sinks, CLI, the pool)', () => {
    for (const f of inLayer(['engine/'])) {
      const bad = loads(f).filter((m) => /^(operators|sinks|cli|parallel|sources)\//.test(m) || m === 'pipeline.ts');
      expect({ file: f, bad }).toEqual({ file: f, bad: [] });
    }
  });
  it('the live page loads no DuckDB and reads no results folder (it draws the stream)', () => {
    for (const f of inLayer(['live/'])) {
      const bad = loads(f).filter((m) => m.startsWith('@duckdb') || m === 'query/results.ts' || m.startsWith('sinks/'));
      expect({ file: f, bad }).toEqual({ file: f, bad: [] });
    }
  });
  it('the library root reaches neither the CLI nor DuckDB', () => {
    const bad = loads('index.ts').filter((m) => /^(cli|bench|query)\//.test(m) || m.startsWith('@duckdb'));
    expect(bad).toEqual([]);
  });
});

/** What importing `entry` (a file under src/) and running `code` loads, from a fresh Node process. */
function loadedBy(entry: string, code = ''): string[] {
  const log = join(mkdtempSync(join(tmpdir(), 'geomstream-loads-')), 'loads.txt');
  const script = `const m = await import(${JSON.stringify(join(SRC, entry))}); ${code}`;
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      new URL('./layers/record-loads.mjs', import.meta.url).pathname,
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8', env: { ...process.env, GEOMSTREAM_LOAD_LOG: log } },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const forbidden = (lines: string[], pattern: RegExp) => lines.filter((l) => pattern.test(l));

describe('layers (what an import loads at run time)', () => {
  it("'geomstream/metrics' loads neither tfjs nor wabt nor worker code, and its metrics run (classifiers included)", () => {
    const lines = loadedBy(
      'metrics/index.ts',
      `
      const X = [[1, 0], [0, 1], [1, 1], [0, 0]];
      if (!(Math.abs(m.linearCKA(X, X) - 1) < 1e-12)) throw new Error('linearCKA');
      const samples = { rows: 8, cols: 2, data: Float64Array.from([0,0, 0,1, 1,0, 1,1, 0.1,0, 0,1.1, 1.1,0, 1,1.1]) };
      m.ccgp(samples, Int32Array.from([0,1,2,3,0,1,2,3]), [0, 1]);`,
    );
    expect(forbidden(lines, /@tensorflow|wabt|worker_threads|parallel\/|engine\/|@duckdb|rxjs/)).toEqual([]);
    expect(lines.some((l) => l.includes('/metrics/cka.ts'))).toBe(true); // the hook does see the modules
  }, 60_000);
  it("'geomstream' loads no DuckDB and no CLI", () => {
    const lines = loadedBy('index.ts');
    expect(forbidden(lines, /@duckdb|\/cli\//)).toEqual([]);
    expect(lines.some((l) => l.includes('/operators/geometry.ts'))).toBe(true);
  }, 60_000);
  for (const source of ['sources/checkpoints.ts', 'sources/activations.ts', 'sources/task-file.ts']) {
    it(`${source} loads no tfjs, wabt, worker code or DuckDB`, () => {
      expect(forbidden(loadedBy(source), /@tensorflow|wabt|worker_threads|@duckdb|\/engine\//)).toEqual([]);
    }, 60_000);
  }
  it('building a sweep loads no tfjs', () => {
    const lines = loadedBy(
      'sources/sweep.ts',
      `
      const { alignedParity } = await import(${JSON.stringify(join(SRC, 'sources/aligned-parity.ts'))});
      const runs = m.sweepRuns({ seed: 0, grid: { activation: ['tanh'] }, seeds: 2,
        run: (p, s) => ({ task: alignedParity({ d: 3, k: 1, alignment: 0.2, N: 20, sigma: 0.5, seed: s.task }),
          network: { activation: p.activation, width: 8 }, training: { lr: 0.1, batch: 16, epochs: 1 } }) });
      if (runs.length !== 2) throw new Error('sweep');`,
    );
    expect(forbidden(lines, /@tensorflow|wabt|worker_threads|@duckdb/)).toEqual([]);
  }, 60_000);
});
