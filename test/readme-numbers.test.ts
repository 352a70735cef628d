/**
 * The README's tables of numbers for the default pipeline, checked against a run of it: the
 * summary table `npm start` prints and the PS/CCGP table (they went stale once). After a change
 * that moves them, `npm run readme:numbers` (GEOMSTREAM_UPDATE_README=1) writes the run's numbers
 * into the README instead of comparing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPipeline, type Pipeline } from '../src/index.js';
import { formatTable, queryResults } from '../src/query/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let readme = readFileSync(join(root, 'README.md'), 'utf8');
const update = process.env.GEOMSTREAM_UPDATE_README === '1';
const out = mkdtempSync(join(tmpdir(), 'geomstream-readme-numbers-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The README code block that starts with `header`. */
const block = (header: string) => {
  const at = readme.indexOf(`\`\`\`\n${header}`);
  expect(at, `README block starting with '${header}'`).toBeGreaterThan(0);
  return readme.slice(at + 4, readme.indexOf('```', at + 4)).trimEnd();
};

describe('README numbers of the default pipeline', () => {
  it('are those of a run of pipelines/tanh-vs-relu.ts', async () => {
    const pipeline = (await import('../pipelines/tanh-vs-relu.js')).default as Pipeline;
    const summary = await runPipeline(pipeline, { out, workers: 2 });
    // The summary table, as `npm start` prints it.
    const { columns, rows } = await queryResults(summary.dir, pipeline.summary!.sql);
    const printed = formatTable(columns, rows)
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n');
    if (update) readme = readme.replace(block('alignment  tanh_input'), printed);
    else expect(block('alignment  tanh_input')).toBe(printed);
    // The PS and CCGP table: final checkpoint, mean over targets and seeds, 3 decimals.
    const { rows: dis } = await queryResults(
      summary.dir,
      `SELECT r.alignment, m.metric, r.activation, avg(m.value) AS v
      FROM metrics m JOIN runs r USING (run_id) WHERE m.step = r.steps AND m.scope = 'run' AND m.metric IN ('ps', 'ccgp')
      GROUP BY ALL ORDER BY m.metric DESC, r.alignment`,
    );
    const value = (a: number, metric: string, act: string) =>
      (dis.find((r) => r.alignment === a && r.metric === metric && r.activation === act)!.v as number).toFixed(3);
    const table = block('alignment  metric  tanh');
    const lines = table.split('\n').slice(1);
    expect(lines).toHaveLength(8);
    if (update) {
      // Each number keeps its place in the line (three decimals, the same width).
      const fresh = lines.map((line) => {
        const [a, metric, tanh, relu] = line.trim().split(/\s+/);
        const at = line.lastIndexOf(relu);
        const head = line.slice(0, at).replace(tanh, value(Number(a), metric, 'tanh'));
        return head + value(Number(a), metric, 'relu') + line.slice(at + relu.length);
      });
      readme = readme.replace(table, [table.split('\n')[0], ...fresh].join('\n'));
      writeFileSync(join(root, 'README.md'), readme);
      return;
    }
    for (const line of lines) {
      const [a, metric, tanh, relu] = line.trim().split(/\s+/);
      expect([metric, a, tanh, relu]).toEqual([
        metric,
        a,
        value(Number(a), metric, 'tanh'),
        value(Number(a), metric, 'relu'),
      ]);
    }
  }, 300_000);
});
