/** Shared test helpers: the fixtures folder and a few matrix builders. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The known-answer fixtures: test/fixtures, a copy of ../shared/fixtures (with its README) kept in
 * the repository so a clone tests on its own; the shared folder is the fallback.
 */
export function fixturesDir(): string {
  for (const dir of [join(here, 'fixtures'), join(here, '..', '..', 'shared', 'fixtures')]) {
    try {
      readFileSync(join(dir, 'README.md'));
      return dir;
    } catch {
      /* try next */
    }
  }
  throw new Error('fixtures: neither ../shared/fixtures nor test/fixtures exists');
}

export function readJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(fixturesDir(), name), 'utf8'));
}

export function readCsv(name: string): number[][] {
  return readFileSync(join(fixturesDir(), name), 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.trim() && !/[a-df-zA-DF-Z]/.test(l))
    .map((l) => l.split(',').map(Number));
}

/** Every file under `dir`, as paths relative to it. */
export function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name],
  );
}

/**
 * The metrics files' columns, in order, written out (not taken from src/sinks/tables.ts) so that a
 * change to the contract shows up as a failing test.
 */
export const METRIC_COLUMNS = [
  'run_id',
  'ensemble_id',
  'scope',
  'step',
  'epoch',
  'loss',
  'layer',
  'metric',
  'against',
  'dichotomy',
  'classifier',
  'value',
  'fits_converged',
  'null_model',
  'null_samples',
  'null_mean',
  'null_sd',
  'p_value',
];
