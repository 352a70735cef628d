/**
 * The README's tables of numbers for the default pipeline, checked against a run of it: the
 * summary table `npm start` prints and the PS/CCGP table with its intervals (they went stale once). After a change
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
    // The PS and CCGP table: final checkpoint, mean over targets and seeds, 3 decimals; the 95 %
    // seed-bootstrap interval of tanh − relu over each network's mean over targets.
    const { rows: dis } = await queryResults(
      summary.dir,
      `WITH m AS (SELECT r.alignment, m.metric, r.activation, r.run_id, m.value
        FROM metrics m JOIN runs r USING (run_id) WHERE m.step = r.steps AND m.scope = 'run' AND m.metric IN ('ps', 'ccgp')),
      per_run AS (SELECT alignment, metric, activation, run_id, avg(value) AS v FROM m GROUP BY ALL)
      SELECT * FROM
        (SELECT alignment, metric, avg(value) FILTER (WHERE activation = 'tanh') AS tanh,
          avg(value) FILTER (WHERE activation = 'relu') AS relu FROM m GROUP BY ALL)
      JOIN (SELECT alignment, metric,
          bootstrap_diff_ci(list(v) FILTER (WHERE activation = 'tanh'), list(v) FILTER (WHERE activation = 'relu')) AS ci
        FROM per_run GROUP BY ALL) USING (alignment, metric)`,
    );
    const fresh = (a: number, metric: string) => {
      const r = dis.find((r) => r.alignment === a && r.metric === metric)!;
      const { lo, hi } = r.ci as { lo: number; hi: number };
      const signed = (v: number) => `${v < 0 ? '-' : '+'}${Math.abs(v).toFixed(3)}`;
      return {
        tanh: (r.tanh as number).toFixed(3),
        relu: (r.relu as number).toFixed(3),
        interval: `[${signed(lo)}, ${signed(hi)}]`,
      };
    };
    const table = block('alignment  metric  tanh');
    const lines = table.split('\n').slice(1);
    expect(lines).toHaveLength(8);
    // alignment, metric, tanh, relu, the interval, and a comment; each keeps its place in the line.
    const parse = (line: string) => {
      const m = /^(\S+)(\s+)(\S+)(\s+)(\S+)(\s+)(\S+)(\s+)(\[\S+, \S+\])(.*)$/.exec(line);
      expect(m, `README PS/CCGP line '${line}'`).not.toBeNull();
      const [, a, s1, metric, s2, tanh, s3, relu, s4, interval, rest] = m!;
      return {
        a,
        metric,
        tanh,
        relu,
        interval,
        join: (v: ReturnType<typeof fresh>) => [a, s1, metric, s2, v.tanh, s3, v.relu, s4, v.interval, rest].join(''),
      };
    };
    if (update) {
      const rewritten = lines.map((line) => {
        const l = parse(line);
        return l.join(fresh(Number(l.a), l.metric));
      });
      readme = readme.replace(table, [table.split('\n')[0], ...rewritten].join('\n'));
      writeFileSync(join(root, 'README.md'), readme);
      return;
    }
    for (const line of lines) {
      const { a, metric, tanh, relu, interval } = parse(line);
      expect([metric, a, { tanh, relu, interval }]).toEqual([metric, a, fresh(Number(a), metric)]);
    }
  }, 300_000);
});
