/**
 * The bootstrap-interval macros that queryResults registers (src/query/bootstrap.ts): their
 * coverage in simulation, their width against the normal theory, determinism, and their checks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryResults } from '../src/query/index.js';
import { BOOTSTRAP_MACROS } from '../src/query/bootstrap.js';
import { Rng } from '../src/random.js';

// The macros need no files: an empty folder has no views, only them.
const dir = mkdtempSync(join(tmpdir(), 'geomstream-bootstrap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
interface Interval {
  lo: number;
  hi: number;
}
/** The first row of `sql`, whose columns are intervals (or, for the coverage, numbers). */
const one = async <T = Record<string, Interval>>(sql: string) => (await queryResults(dir, sql)).rows[0] as T;
const list = (v: number[]) => `[${v.join(', ')}]::DOUBLE[]`;
const normals = (rng: Rng, n: number, mean: number, sd: number) =>
  Array.from({ length: n }, () => mean + sd * rng.normal());

/**
 * Coverage of the 95 % intervals over `datasets` simulated datasets: n seeds per group, group a
 * ~ N(0.3, 1), b ~ N(0, 2²) (unequal spreads: the two-sample bootstrap must not assume equal ones).
 */
async function coverage(n: number, datasets: number, seed: number) {
  const rng = new Rng(seed);
  const rows = Array.from(
    { length: datasets },
    () => `(${list(normals(rng, n, 0.3, 1))}, ${list(normals(rng, n, 0, 2))})`,
  );
  return one<{
    diff: number;
    mean: number;
  }>(`SELECT avg((d.lo <= 0.3 AND 0.3 <= d.hi)::INTEGER) AS diff, avg((m.lo <= 0.3 AND 0.3 <= m.hi)::INTEGER) AS mean
    FROM (SELECT bootstrap_diff_ci(a, b) AS d, bootstrap_ci(a) AS m FROM (VALUES ${rows.join(', ')}) t(a, b))`);
}

describe('bootstrap intervals (DuckDB macros of every results folder)', () => {
  // A percentile interval undercovers with few seeds (plug-in variance (n − 1)/n · s², normal
  // quantiles). Its own coverage for these data, from a numpy simulation of the same procedure
  // (10,000 datasets, B = 2000, standard error 0.003): at n = 10, 0.914 for the difference and 0.901
  // for one mean; at n = 5, 0.863 and 0.831. The band: 3 standard errors of a 400-dataset estimate
  // (±0.042 at 0.91) plus 0.01 for the reference's own error. A method that resampled without
  // replacement, or swapped the bounds, or used a wrong quantile, lands far outside it.
  const band = (p: number, datasets: number) => 3 * Math.sqrt((p * (1 - p)) / datasets) + 0.01;
  it('cover the true difference (and mean) at the percentile bootstrap’s rate: 10 seeds per group, 400 datasets', async () => {
    const c = await coverage(10, 400, 1);
    expect(Math.abs(c.diff - 0.914), `difference coverage ${c.diff}`).toBeLessThanOrEqual(band(0.914, 400));
    expect(Math.abs(c.mean - 0.901), `mean coverage ${c.mean}`).toBeLessThanOrEqual(band(0.901, 400));
  });
  it('and at 5 seeds per group (the default pipeline’s), where they are about 0.86 intervals', async () => {
    const c = await coverage(5, 400, 2);
    expect(Math.abs(c.diff - 0.863), `difference coverage ${c.diff}`).toBeLessThanOrEqual(band(0.863, 400));
    expect(Math.abs(c.mean - 0.831), `mean coverage ${c.mean}`).toBeLessThanOrEqual(band(0.831, 400));
  });
  it('with many seeds, are the normal interval: mean ± 1.96 plug-in standard errors', async () => {
    const rng = new Rng(3);
    const a = normals(rng, 40, 1, 1),
      b = normals(rng, 30, 0, 3);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const plugIn = (v: number[]) => v.reduce((s, x) => s + (x - mean(v)) ** 2, 0) / v.length ** 2; // variance of the mean
    const r = await one(`SELECT bootstrap_ci(${list(a)}) AS m, bootstrap_diff_ci(${list(a)}, ${list(b)}) AS d`);
    for (const [ci, centre, se] of [
      [r.m, mean(a), Math.sqrt(plugIn(a))],
      [r.d, mean(a) - mean(b), Math.sqrt(plugIn(a) + plugIn(b))],
    ] as const) {
      // B = 2000 puts each bound within about 0.06 standard errors of its limit.
      expect(Math.abs((ci.hi - ci.lo) / (2 * 1.96 * se) - 1)).toBeLessThan(0.1);
      expect(Math.abs((ci.hi + ci.lo) / 2 - centre) / se).toBeLessThan(0.15);
    }
  });
  it('are deterministic: the same values in any order give the same interval; the seed and B are options', async () => {
    const v = [0.51, 0.62, 0.48, 0.7, 0.55],
      w = [0.31, 0.4, 0.28, 0.45, 0.5];
    const q = (a: number[], b: number[], extra = '') =>
      one(`SELECT bootstrap_diff_ci(${list(a)}, ${list(b)}${extra}) AS d, bootstrap_ci(${list(a)}${extra}) AS m`);
    const first = await q(v, w);
    expect(await q(v, w)).toEqual(first);
    expect(await q([...v].reverse(), [w[2], w[0], w[4], w[1], w[3]])).toEqual(first);
    expect(first.d.lo).toBeLessThan(first.d.hi);
    expect(await q(v, w, ', seed := 1')).not.toEqual(first);
    const narrow = await q(v, w, ', level := 0.5, resamples := 500');
    expect(narrow.d.lo).toBeGreaterThan(first.d.lo);
    expect(narrow.d.hi).toBeLessThan(first.d.hi);
  });
  it('drop NULL values; a group without values gives NULL bounds; aggregates are accepted as arguments', async () => {
    expect(await one('SELECT bootstrap_ci([2.0, NULL, 2.0]) AS m')).toEqual({ m: { lo: 2, hi: 2 } });
    expect(await one('SELECT bootstrap_diff_ci([1.0, 2.0], NULL) AS d')).toEqual({ d: { lo: null, hi: null } });
    const grouped = await queryResults(
      dir,
      `SELECT k, bootstrap_diff_ci(list(v) FILTER (WHERE g = 'a'), list(v) FILTER (WHERE g = 'b')) AS d
       FROM (VALUES (1, 'a', 1.0), (1, 'a', 1.0), (1, 'b', 0.0), (2, 'b', 1.0)) t(k, g, v) GROUP BY k ORDER BY k`,
    );
    expect(grouped.rows).toEqual([
      { k: 1, d: { lo: 1, hi: 1 } },
      { k: 2, d: { lo: null, hi: null } },
    ]);
  });
  it('are the ones the README lists, with their defaults (The summary views)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const views = readme.slice(readme.indexOf('### The summary views'), readme.indexOf('## Performance'));
    const signatures = BOOTSTRAP_MACROS.map((m) => /^CREATE MACRO (\w+)\(([^)]*)\)/.exec(m)!.slice(1));
    expect(signatures.map(([name]) => name)).toEqual(['bootstrap_ci', 'bootstrap_diff_ci']);
    const [[, one], [, two]] = signatures;
    expect(views).toContain(`\`bootstrap_ci(${one})\``);
    // bootstrap_diff_ci is listed with "the same defaults".
    expect(two).toBe(`a, b${one.slice(1)}`);
    expect(views).toContain('`bootstrap_diff_ci(a, b, level, resamples, seed)` (the same defaults)');
  });
  it('reject a level outside (0, 1) and fewer than 20 resamples, naming the option', async () => {
    await expect(one('SELECT bootstrap_ci([1.0, 2.0], level := 95) AS m')).rejects.toThrow(
      /bootstrap_ci level: received 95; accepted: a number > 0 and < 1/,
    );
    await expect(one('SELECT bootstrap_diff_ci([1.0], [2.0], resamples := 10.5) AS d')).rejects.toThrow(
      /bootstrap_diff_ci resamples: received 10.5; accepted: an integer >= 20/,
    );
  });
});
