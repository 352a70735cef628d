/** Shared test helpers: the fixtures folder and a few matrix builders. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/** The shared fixtures folder (../shared/fixtures beside the repository), or test/fixtures if copied there. */
export function fixturesDir(): string {
  for (const dir of [join(here, '..', '..', 'shared', 'fixtures'), join(here, 'fixtures')]) {
    try {
      readFileSync(join(dir, 'README.md'));
      return dir;
    } catch { /* try next */ }
  }
  throw new Error('fixtures: neither ../shared/fixtures nor test/fixtures exists');
}

export function readJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(fixturesDir(), name), 'utf8'));
}

export function readCsv(name: string): number[][] {
  return readFileSync(join(fixturesDir(), name), 'utf8').trim().split('\n')
    .filter((l) => l.trim() && !/[a-df-zA-DF-Z]/.test(l))
    .map((l) => l.split(',').map(Number));
}
