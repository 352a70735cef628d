/**
 * Python interop: pyarrow, polars, pandas and duckdb (Python) read the same results folder and agree,
 * with each other and with what geomstream wrote. Needs python3 with those packages: `.ci/run`
 * installs them; elsewhere the test is skipped (with the reason) unless CI is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPipeline, type ResultsSummary } from '../src/index.js';
import { queryResults } from '../src/query/index.js';
import { tinyPipeline } from './tiny-pipeline.js';
import { METRIC_COLUMNS } from './helpers.js';

const probe = spawnSync('python3', ['-c', 'import pyarrow, polars, pandas, duckdb'], { encoding: 'utf8' });
const available = probe.status === 0;
if (!available && process.env.CI)
  throw new Error(`python3 with pyarrow, polars, pandas, duckdb is required in CI: ${probe.stderr || probe.error}`);

const out = mkdtempSync(join(tmpdir(), 'geomstream-interop-'));
let summary: ResultsSummary;
beforeAll(async () => {
  if (available) summary = await runPipeline(tinyPipeline({ lrs: [0.2, 1e300] }), { out, formats: ['arrow'] });
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(!available)('Python readers', () => {
  it('pyarrow, polars, pandas and duckdb read the same rows, columns and values', async () => {
    const script = fileURLToPath(new URL('./python/check_results.py', import.meta.url));
    const res = spawnSync('python3', [script, summary.dir], { encoding: 'utf8' });
    expect(res.stderr).not.toMatch(/Traceback/);
    expect(res.status).toBe(0);
    const seen = JSON.parse(res.stdout) as Record<
      string,
      {
        metric_rows: number;
        value_sum: number;
        columns: string[];
        runs: number;
        statuses: string[];
        kernel_alignment_rows: number;
      }
    >;
    const ours = (
      await queryResults(
        summary.dir,
        "SELECT count(*)::INTEGER AS n, sum(value) AS s, (count(*) FILTER (WHERE metric = 'kernel_alignment'))::INTEGER AS ka FROM metrics",
      )
    ).rows[0];
    for (const reader of ['pyarrow', 'polars', 'pandas', 'duckdb']) {
      const r = seen[reader];
      expect(r.metric_rows, reader).toBe(ours.n);
      expect(r.value_sum, reader).toBeCloseTo(ours.s as number, 9);
      expect(r.kernel_alignment_rows, reader).toBe(ours.ka);
      expect(r.columns, reader).toEqual(METRIC_COLUMNS);
      expect(r.runs, reader).toBe(16);
      expect(r.statuses, reader).toEqual(['completed', 'diverged']);
    }
    expect(seen.pyarrow).toMatchObject({ arrow_stream_rows: ours.n });
    expect((seen.pyarrow as unknown as { types: Record<string, string> }).types).toMatchObject({
      step: 'int32',
      value: 'double',
      metric: 'string',
    });
  });
});

it.runIf(!available)('Python interop skipped: python3 with pyarrow, polars, pandas and duckdb not found', () => {
  expect(available).toBe(false);
});
