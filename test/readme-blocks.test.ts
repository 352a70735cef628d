/**
 * Every fenced code block of README.md is checked by a test. `CHECKS` names the test of each block
 * (by its section and first line), and the first test here fails when a block is added, removed or
 * moved without an entry. This file checks the blocks no other test does: TypeScript through tsx
 * (written beside src/ so that '../src/index.js' resolves), shell commands (run when they are quick,
 * else their files and flags checked), SQL through DuckDB and Python through python3, over results
 * folders made here by small runs, and the folder layouts against the folders and the code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, pipe, toArray } from 'rxjs';
import { tableFromIPC } from 'apache-arrow';
import * as metrics from '../src/metrics/index.js';
import {
  analyzeFiles,
  definePipeline,
  geometry,
  probe,
  type ResultsSummary,
  runPipeline,
  type StreamRecord,
  sweep,
  train,
  unstructured,
  weightDynamics,
} from '../src/index.js';
import { queryResults, report } from '../src/query/index.js';
import tanhVsRelu from '../pipelines/tanh-vs-relu.js';
import { separation } from '../examples/custom-metric.js';
import { walk } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: Record<string, string>;
  scripts: Record<string, string>;
  exports: Record<string, { default: string }>;
};

interface Block {
  /** Line of the opening fence (1-based). */
  line: number;
  lang: string;
  /** The heading the block is under. */
  section: string;
  text: string;
}

const blocks: Block[] = [];
{
  const lines = readme.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#+ (.*)$/.exec(lines[i]);
    if (heading) section = heading[1];
    const open = /^```(\w*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`README.md:${i + 1}: a code block that does not end`);
    blocks.push({ line: i + 1, lang: open[1], section, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
}

/** Which test checks each README block, in README order: its section, language and first line. */
const CHECKS: Array<{ section: string; lang: string; start: string; by: string }> = [
  { section: 'Quick start', lang: 'sh', start: 'npm install', by: 'this file' },
  { section: 'Quick start', lang: '', start: 'alignment  tanh_input', by: 'test/readme-numbers.test.ts' },
  { section: 'Quick start', lang: '', start: 'alignment  metric  tanh', by: 'test/readme-numbers.test.ts' },
  { section: 'Quick start', lang: 'sql', start: 'SELECT r.alignment, m.metric', by: 'this file' },
  { section: 'Writing a pipeline', lang: 'ts', start: '// pipelines/xor-width.ts', by: 'test/readme-pipeline.test.ts' },
  {
    section: 'Writing a pipeline',
    lang: 'sh',
    start: 'node bin/geomstream.js run pipelines/xor-width.ts',
    by: 'test/readme-pipeline.test.ts',
  },
  { section: 'Writing a pipeline', lang: 'ts', start: 'import { lastValueFrom, toArray }', by: 'this file' },
  { section: 'Writing a pipeline', lang: 'ts', start: 'import { linearCKA', by: 'this file' },
  { section: 'Writing your own metric', lang: 'ts', start: '// examples/custom-metric.ts', by: 'this file' },
  {
    section: 'Writing your own metric',
    lang: 'sh',
    start: 'node bin/geomstream.js run examples/custom-metric.ts',
    by: 'this file',
  },
  {
    section: 'Analyse your own checkpoints',
    lang: 'sh',
    start: '# 1. the task as tensors',
    by: 'test/readme-ingestion.test.ts',
  },
  { section: 'Analyse your own checkpoints', lang: 'python', start: 'import sys', by: 'test/readme-ingestion.test.ts' },
  { section: 'Reruns, crashes and clusters', lang: 'sh', start: 'sbatch --array=0-2', by: 'this file' },
  {
    section: 'Reruns, crashes and clusters',
    lang: 'sql',
    start: 'SELECT r.activation, avg(m.value)',
    by: 'test/resume.test.ts',
  },
  { section: 'The results folder', lang: '', start: 'results/<pipeline>/', by: 'this file' },
  { section: 'The results folder', lang: 'sql', start: 'SELECT r.activation, r.alignment, m.against', by: 'this file' },
  { section: 'The results folder', lang: 'python', start: 'import pandas as pd', by: 'this file' },
  { section: 'The summary views', lang: 'sql', start: 'SELECT r.activation, r.alignment, f.against', by: 'this file' },
  { section: 'Code layout', lang: '', start: 'src/maths', by: 'this file' },
];

/** The README block of `section` that starts with `start`. */
function block(section: string, start: string): string {
  const found = blocks.filter((b) => b.section === section && b.text.startsWith(start));
  expect(found, `one README block in '${section}' starting with '${start}'`).toHaveLength(1);
  return found[0].text;
}

/** A README section's text, from its heading to the next heading. */
function section(heading: string): string {
  const at = readme.indexOf(`${heading}\n`);
  expect(at, heading).toBeGreaterThanOrEqual(0);
  const next = readme.slice(at + heading.length).search(/\n#+ /);
  return readme.slice(at, next < 0 ? undefined : at + heading.length + next);
}

/** A shell block's commands (continuation lines joined) with their trailing comments. */
function commands(text: string): Array<{ cmd: string; comment: string }> {
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => /^([^#]*?)\s*(?:#\s*(.*))?$/.exec(l.trim())!)
    .filter((m) => m[1])
    .map((m) => ({ cmd: m[1], comment: m[2] ?? '' }));
}

/** The package's entry points in a checkout: package.json `exports` maps the same names to their build. */
const ENTRY_POINTS: Record<string, string> = {
  geomstream: '../src/index.js',
  'geomstream/metrics': '../src/metrics/index.js',
  'geomstream/query': '../src/query/index.js',
};
function fromCheckout(code: string): string {
  return code.replace(/from '(geomstream(?:\/\w+)?)'/g, (_, name: string) => {
    if (!ENTRY_POINTS[name]) throw new Error(`a README import of '${name}', not an entry point`);
    return `from '${ENTRY_POINTS[name]}'`;
  });
}

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}
function run(cmd: string, args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** TypeScript through tsx, from a file in .readme-test/ (beside src/, as pipelines/ is). */
const scratch = join(root, '.readme-test');
const scratchFiles: string[] = [];
function runTs(name: string, code: string): Promise<Ran> {
  mkdirSync(scratch, { recursive: true });
  const file = join(scratch, `blocks-${process.pid}-${name}.ts`);
  writeFileSync(file, code);
  scratchFiles.push(file);
  return run('node', ['--import', 'tsx', file]);
}

/** python3 with pandas and polars: .ci/run installs them; elsewhere the Python check is skipped unless CI is set. */
const python = spawnSync('python3', ['-c', 'import pandas, polars'], { encoding: 'utf8' });
if (python.status !== 0 && process.env.CI)
  throw new Error(`python3 with pandas and polars is required in CI: ${python.stderr || python.error}`);

const tmp = mkdtempSync(join(tmpdir(), 'geomstream-readme-blocks-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  for (const f of scratchFiles) rmSync(f, { force: true });
  try {
    rmdirSync(scratch); // only when no other test still has a file there
  } catch {
    /* not empty, or gone */
  }
});

// The results folders the SQL, Python and layout blocks are checked against:
// `a`: the default pipeline, shrunk (one alignment, 2 epochs), with every stream format and arrow snapshots;
// `b`: weight dynamics with a field, and safetensors snapshots; `c`: analyze of b's snapshots plus a truncated file.
const task = unstructured({ P: 4, N: 12, sigma: 0.5, targets: { positive: [0, 3] }, seed: 1 });
let a: ResultsSummary;
let b: ResultsSummary;
let c: ResultsSummary;
let lock = '';
const seenWhileWriting: string[] = [];
beforeAll(async () => {
  a = await runPipeline(tanhVsRelu, {
    out: join(tmp, 'a'),
    quick: true,
    set: { alignments: '0.6547', epochs: '2', samples: '256', checkpoints: '2' },
    formats: ['arrow', 'ndjson'],
    snapshots: true,
    afterWrite: (s) => {
      // The dataset is written and the lock still held.
      seenWhileWriting.push(...walk(s.dir));
      lock = readFileSync(join(s.dir, '.geomstream.lock'), 'utf8');
    },
  });
  await report(a.dir);
  const dynamics = definePipeline({
    name: 'dynamics',
    seed: 1,
    runs: ({ seed }) =>
      sweep({
        seed,
        grid: { activation: ['tanh'] as const },
        seeds: 2,
        run: (p) => ({
          task,
          network: { activation: p.activation, width: 8 },
          training: { lr: 0.2, batch: 25, samples: 100, epochs: 2, checkpoints: { steps: [2] } },
        }),
      }),
    process: (ctx) => pipe(train(ctx.train), weightDynamics({ field: { neurons: [0], size: 3 } }), probe(), geometry()),
  });
  b = await runPipeline(dynamics, { out: join(tmp, 'b'), snapshots: 'safetensors' });
  const ckpts = join(tmp, 'ckpts');
  const [ensemble] = readdirSync(join(b.dir, 'snapshots'));
  cpSync(join(b.dir, 'snapshots', ensemble), ckpts, { recursive: true });
  const first = readdirSync(ckpts).sort()[0];
  writeFileSync(join(ckpts, 'step-99999999.safetensors'), readFileSync(join(ckpts, first)).subarray(0, 50));
  c = await analyzeFiles({ path: ckpts, task, activation: 'tanh', metrics: ['kernel_alignment'], out: join(tmp, 'c') });
}, 120_000);

/** Rows as comparable text (numbers to 12 digits). */
const text = (rows: Record<string, unknown>[]) =>
  rows.map((r) =>
    Object.values(r)
      .map((v) => (typeof v === 'number' ? v.toPrecision(12) : String(v)))
      .join(' | '),
  );

describe('README code blocks', () => {
  it('every block has a check, by the test named in CHECKS', () => {
    const matched = blocks.map((b) =>
      CHECKS.findIndex((c) => c.section === b.section && c.lang === b.lang && b.text.startsWith(c.start)),
    );
    const where = blocks.map(
      (b, i) => `README.md:${b.line} (${b.section}, ${b.lang || 'untyped'}): check ${matched[i]}`,
    );
    expect(where).toEqual(
      blocks.map((b, i) => `README.md:${b.line} (${b.section}, ${b.lang || 'untyped'}): check ${i}`),
    );
    expect(blocks).toHaveLength(CHECKS.length);
    for (const file of new Set(CHECKS.map((c) => c.by).filter((f) => f !== 'this file')))
      expect(readFileSync(join(root, file), 'utf8'), file).toMatch(/README/);
  });

  it('Quick start: the npm scripts exist and do what the comments say', () => {
    const cmds = commands(block('Quick start', 'npm install'));
    expect(cmds.map((c) => c.cmd)).toEqual(['npm install', 'npm start', 'npm test']);
    // npm install is not run here: CI runs `npm ci` (.ci/run), whose prepare step builds.
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/^npm ci /m);
    expect(pkg.engines.node).toBe('>=20');
    // npm start: the default pipeline into ./results; its summary table is test/readme-numbers.test.ts's.
    expect(cmds[1].comment).toMatch(/^the default pipeline \(tanh vs relu\) into \.\/results, then a summary table$/);
    expect(pkg.scripts.start).toBe('node bin/geomstream.js run pipelines/tanh-vs-relu.ts --out results');
    expect(readme).toContain(
      `\`npm start\` runs \`${pkg.scripts.start.replace('node bin/geomstream.js', 'geomstream')}\``,
    );
    expect(tanhVsRelu.name).toBe('tanh-vs-relu');
    expect(tanhVsRelu.summary?.sql).toBeTruthy();
    // npm test: type check, format and lint check (biome), the test suite.
    expect(cmds[2].comment).toBe('type check, format and lint check (biome), the test suite');
    expect(pkg.scripts.test).toMatch(/tsc --noEmit -p \. && biome ci\b[^&]* && vitest run$/);
  });

  it('Quick start: the PS, CCGP and SD query runs over a results folder of the default pipeline', async () => {
    const sql = block('Quick start', 'SELECT r.alignment, m.metric').replaceAll('results/tanh-vs-relu', a.dir);
    const { columns, rows } = await queryResults(a.dir, sql);
    expect(columns.slice(0, 3)).toEqual(['alignment', 'metric', 'activation']);
    expect(rows.map((r) => `${r.alignment} ${r.metric} ${r.activation}`)).toEqual([
      '0.6547 ccgp relu',
      '0.6547 ccgp tanh',
      '0.6547 ps relu',
      '0.6547 ps tanh',
      '0.6547 sd relu',
      '0.6547 sd tanh',
    ]);
    // The same numbers through the views (The summary views).
    const views = await queryResults(
      a.dir,
      `SELECT r.alignment, f.metric, r.activation, avg(f.value) FROM final f JOIN runs r USING (run_id)
       WHERE f.scope = 'run' AND f.metric IN ('ps', 'ccgp', 'sd') GROUP BY ALL ORDER BY ALL`,
    );
    expect(text(rows)).toEqual(text(views.rows));
  });

  it('Writing a pipeline: the operators run without the CLI, as shown', async () => {
    const code = `${fromCheckout(block('Writing a pipeline', 'import { lastValueFrom, toArray }'))}
console.log(JSON.stringify(rows.map((r) => (r.kind === 'metric' ? \`metric \${r.metric} \${r.against} \${r.scope}\` : r.kind === 'run' ? \`run \${r.status}\` : r.kind))));
`;
    const r = await runTs('operators', code);
    expect(r.status, r.stderr).toBe(0);
    const records = JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
    const count = (s: string) => records.filter((x) => x === s).length;
    // train consumed the run specs; probe passed the snapshots on; geometry consumed the representations.
    expect([...new Set(records.map((x) => x.split(' ')[0]))].sort()).toEqual(['metric', 'run', 'snapshot']);
    expect(count('run completed')).toBe(3);
    expect(count('snapshot')).toBeGreaterThan(3);
    // geometry() computes kernel alignment by default: per network and checkpoint, and per ensemble (3 seeds).
    for (const against of ['input', 'target']) {
      expect(count(`metric kernel_alignment ${against} run`)).toBe(count('snapshot'));
      expect(3 * count(`metric kernel_alignment ${against} ensemble`)).toBe(count('snapshot'));
    }
  });

  it('Writing a pipeline: the metrics snippet runs as written, with the results its comments describe', async () => {
    const lines = block('Writing a pipeline', 'import { linearCKA').split('\n');
    const calls: Array<{ call: string; comment: string }> = [];
    const code = lines.map((l) => {
      const m = /^(\w+\(.*?\));\s*(?:\/\/\s*(.*))?$/.exec(l);
      if (!m) return l;
      calls.push({ call: m[1], comment: m[2] ?? '' });
      return `console.log(JSON.stringify(${m[1]}));`;
    });
    // And the inputs' shapes, to compare with what the comments say they are.
    code.push(
      'console.log(JSON.stringify([X.length, X[0].length, Y.length, Y[0].length, samples.length, samples[0].length, conditions.length, Math.max(...conditions), conditions.filter((c) => c === 0).length, X.map((x) => x[0])]));',
    );
    const r = await runTs('metrics', fromCheckout(code.join('\n')));
    expect(r.status, r.stderr).toBe(0);
    const results = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    const said = lines.join('\n');
    const numbers = (re: RegExp) => re.exec(said)!.slice(1).map(Number);
    const shapes = results.pop() as number[];
    expect(shapes).toEqual([
      ...numbers(/X \((\d+) × (\d+)\)/),
      ...numbers(/Y \((\d+) × (\d+)\)/),
      ...numbers(/samples \((\d+) × (\d+), rows = samples\)/),
      ...numbers(/conditions \((\d+), each in 0\.\.(\d+)\)/),
      ...numbers(/(\d+) noisy samples of each condition/),
      // "[1, 3, 5, 7]: … (here: the first latent is +1)"
      [-1, 1, -1, 1, -1, 1, -1, 1],
    ]);
    expect(said).toContain('// [1, 3, 5, 7]: one side of a dichotomy of the conditions (here: the first latent is +1)');
    expect(numbers(/^\/\/ (\d+) conditions/m)).toEqual([shapes[0]]);
    expect(calls.map((x) => x.call.split('(')[0])).toEqual([
      'linearCKA',
      'compareRdms',
      'parallelismScore',
      'ccgp',
      'shatteringDimensionality',
    ]);
    expect(results).toHaveLength(calls.length);
    const isObject = (v: unknown): v is Record<string, unknown> =>
      typeof v === 'object' && v !== null && !Array.isArray(v);
    const shape = (v: Record<string, unknown>): string =>
      `{ ${Object.entries(v)
        .map(([k, x]) => (isObject(x) ? `${k}: ${shape(x)}` : k))
        .join(', ')} }`;
    for (const [i, { call, comment }] of calls.entries()) {
      const v = results[i];
      // Numbers out: a number, or a result with its number in `value`.
      expect(typeof (isObject(v) ? v.value : v), call).toBe('number');
      if (!comment.startsWith('{')) continue;
      let depth = 0;
      const end = [...comment].findIndex((ch) => (depth += ch === '{' ? 1 : ch === '}' ? -1 : 0) === 0);
      expect(shape(v as Record<string, unknown>), call).toBe(comment.slice(0, end + 1));
    }
    // "exact up to 8 conditions per side" (the snippet has 4 per side).
    const limit = Number(/exact up to (\d+) conditions per side/.exec(calls[2].comment)![1]);
    expect((results[2] as { exact: boolean }).exact).toBe(true);
    const conds = (P: number) => Array.from({ length: P }, (_, p) => [Math.cos(p), Math.sin(2 * p), (p % 3) - 1]);
    const half = (P: number) => Array.from({ length: P / 2 }, (_, i) => i);
    expect(metrics.parallelismScore(conds(2 * limit), half(2 * limit)).exact).toBe(true);
    expect(metrics.parallelismScore(conds(2 * limit + 2), half(2 * limit + 2))).toMatchObject({
      exact: false,
      method: 'min-distance-assignment',
    });
    // The RDM distances and comparisons the comment lists.
    const X = conds(6);
    const Y = X.map(([u, v, w]) => [Math.tanh(u + v), w * w]);
    const [distances, comparisons] = /RDMs: (.*)$/
      .exec(calls[1].comment)![1]
      .split(';')
      .map((s) => s.split('|').map((x) => x.replace(/\(.*\)/, '').trim()));
    expect(distances).toEqual(['euclidean', 'sqeuclidean', 'correlation']);
    for (const d of distances) expect(metrics.rdm(X, d as metrics.RdmMetric).every(Number.isFinite), d).toBe(true);
    const tieSensitive = [...lines.join('\n').matchAll(/'(tau-a|rho-a)'/g)].map((m) => m[1]);
    expect(tieSensitive).toEqual(['tau-a', 'rho-a']);
    for (const method of [...comparisons, ...tieSensitive])
      expect(
        Number.isFinite(metrics.compareRdms(metrics.rdm(X), metrics.rdm(Y), method as metrics.RdmComparison)),
        method,
      ).toBe(true);
    expect(metrics.compareRdms(metrics.rdm(X), metrics.rdm(Y), 'kendall')).toBe(
      metrics.kendallTauB(metrics.rdm(X), metrics.rdm(Y)),
    );
    // Every function named after "also" is exported by geomstream/metrics.
    const comments = lines.map((l) => /\/\/\s*(.*)$/.exec(l)?.[1] ?? '');
    const also = comments
      .map((t, i) => (/^also:/.test(t) ? `${t} ${comments[i + 1]}` : t))
      .flatMap((t) => /\balso:? (.*)$/.exec(t)?.[1].split(/,(?![^(]*\))/) ?? [])
      .map((item) => /^\s*([a-z]\w*)/.exec(item)?.[1])
      .filter((n): n is string => !!n);
    expect(also).toHaveLength(10);
    for (const name of also) expect(typeof (metrics as Record<string, unknown>)[name], name).toBe('function');
  });

  it('Writing your own metric: the record kinds are StreamRecord’s, and operators pass other kinds through', async () => {
    const types = readFileSync(join(root, 'src/types.ts'), 'utf8');
    const kinds = new Set([...types.matchAll(/^\s+kind: '([a-z-]+)';$/gm)].map((m) => m[1]));
    const union = /export type StreamRecord =([^;]*);/
      .exec(types)![1]
      .split('|')
      .map((s) => s.trim())
      .filter(Boolean);
    const table = section('### Writing your own metric')
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split('|').map((cell) => cell.trim()));
    const names = (cell: string) => cell.split(', ').map((s) => s.replaceAll('`', ''));
    expect(table.flatMap((row) => names(row[1])).sort()).toEqual([...kinds].sort());
    expect(table.flatMap((row) => names(row[2])).sort()).toEqual([...union].sort());
    // Records of kinds an operator does not handle come out unchanged, in order (the example's operator too).
    const foreign: StreamRecord[] = [
      { kind: 'error', path: 'a.safetensors', step: 3, error: 'truncated' },
      {
        kind: 'metric',
        run_id: 'r',
        ensemble_id: 'e',
        scope: 'run',
        step: 1,
        epoch: null,
        loss: null,
        layer: 1,
        metric: 'm',
        against: null,
        dichotomy: null,
        classifier: null,
        value: 0.5,
        fits_converged: null,
        null_model: null,
        null_samples: null,
        null_mean: null,
        null_sd: null,
        p_value: null,
      },
      { kind: 'field', run_id: 'r', step: 0, neuron: 0, inter: 0, intra_1: 0, d_inter: 1, d_intra_1: 0 },
    ];
    const out = await lastValueFrom(
      from(foreign).pipe(train(), probe(), weightDynamics(), separation(), geometry(), toArray()),
    );
    expect(out).toEqual(foreign);
    // A MetricRow's fields are the columns of metrics/*.parquet (the README's table of them).
    const metricRow = /export interface MetricRow \{([\s\S]*?)\n\}/.exec(types)![1];
    const fields = [...metricRow.matchAll(/^ {2}(\w+): /gm)].map((m) => m[1]).filter((f) => f !== 'kind');
    expect(metricColumns()).toEqual(fields);
  });

  it('Writing your own metric: the example is examples/custom-metric.ts, runs as shown, its rows are in metrics/', async () => {
    const example = readFileSync(join(root, 'examples/custom-metric.ts'), 'utf8');
    expect(`${block('Writing your own metric', '// examples/custom-metric.ts')}\n`).toBe(example);
    const [cmd, ...more] = commands(block('Writing your own metric', 'node bin/geomstream.js run examples/'));
    expect(more).toEqual([]);
    expect(cmd.comment).toBe('rows in results/custom-metric/metrics/');
    const out = join(tmp, 'custom');
    const args = cmd.cmd
      .split(/\s+/)
      .slice(1)
      .map((x) => (x === 'results' ? out : x));
    const r = await run('node', [...args, '--no-progress']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/target separation at the last checkpoint[\s\S]*\nrelu +\d+\.\d+ +3\ntanh +\d+\.\d+ +3\n/);
    const dir = join(out, 'custom-metric');
    expect(readdirSync(join(dir, 'metrics')).length).toBeGreaterThan(0);
    const { rows } = await queryResults(
      dir,
      `SELECT count(*)::INTEGER AS n, count(DISTINCT run_id)::INTEGER AS runs,
              count(*) FILTER (WHERE scope = 'run' AND layer = 1 AND against IS NULL AND classifier IS NULL AND fits_converged IS NULL)::INTEGER AS plain,
              list(DISTINCT dichotomy ORDER BY dichotomy) AS dichotomies, min(value) AS lo,
              (SELECT count(*)::INTEGER FROM (SELECT DISTINCT run_id, step FROM metrics WHERE metric = 'kernel_alignment' AND scope = 'run')) AS checkpoints
       FROM metrics WHERE metric = 'target_separation'`,
    );
    const [m] = rows as Array<{
      n: number;
      runs: number;
      plain: number;
      dichotomies: string[];
      lo: number;
      checkpoints: number;
    }>;
    expect(m.runs).toBe(6); // tanh and relu, 3 seeds
    expect(m.plain).toBe(m.n);
    expect(m.dichotomies).toEqual(['target0', 'target1', 'target2']);
    expect(m.lo).toBeGreaterThan(0);
    // One row per target at every checkpoint where geometry (after the operator) computed kernel alignment.
    expect(m.checkpoints).toBeGreaterThan(6);
    expect(m.n).toBe(3 * m.checkpoints);
  });

  it('Reruns, crashes and clusters: the cluster commands name files that exist, with flags geomstream has', async () => {
    const cmds = commands(block('Reruns, crashes and clusters', 'sbatch --array=0-2'));
    expect(cmds.map((c) => c.cmd.split(' ')[0])).toEqual(['sbatch', 'kubectl', 'geomstream']);
    const runHelp = await run('node', ['bin/geomstream.js', 'run', '--help']);
    const flags = (s: string) => [...s.matchAll(/(?<![\w-])--[a-z-]+/g)].map((m) => m[0]);
    const runFlags = new Set(flags(runHelp.stdout));
    // Slurm: `sbatch --array=0-2 deploy/slurm/sweep.sbatch PIPELINE OUT`, 3 shards (CI runs it: deploy/slurm/test-local.sh).
    expect(cmds[0].cmd).toBe('sbatch --array=0-2 deploy/slurm/sweep.sbatch pipelines/tanh-vs-relu.ts results');
    expect(cmds[0].comment).toBe('Slurm: 3 shards');
    expect(existsSync(join(root, 'pipelines/tanh-vs-relu.ts'))).toBe(true);
    const sbatch = readFileSync(join(root, 'deploy/slurm/sweep.sbatch'), 'utf8');
    expect(spawnSync('bash', ['-n', join(root, 'deploy/slurm/sweep.sbatch')]).status).toBe(0);
    expect(sbatch).toContain(`#   ${cmds[0].cmd}\n`);
    expect(sbatch).toMatch(/pipeline="\$\{1:-/);
    expect(sbatch).toMatch(/out="\$\{2:-/);
    const node = /^node bin\/geomstream.js run "\$pipeline" --out "\$out" (.*)$/m.exec(sbatch)![1];
    expect(node).toContain('--shard auto');
    for (const f of flags(node)) expect(runFlags, f).toContain(f);
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/^bash deploy\/slurm\/test-local.sh$/m);
    expect(readFileSync(join(root, 'deploy/slurm/test-local.sh'), 'utf8')).toMatch(
      /sbatch [^\n]*--array=[\s\S]*deploy\/slurm\/sweep.sbatch/,
    );
    // Kubernetes, "the same": an Indexed Job of 3 completions running the same pipeline, shard auto.
    expect(cmds[1]).toEqual({ cmd: 'kubectl apply -f deploy/k8s/indexed-job.yaml', comment: 'Kubernetes: the same' });
    const job = readFileSync(join(root, 'deploy/k8s/indexed-job.yaml'), 'utf8');
    expect(job).toMatch(/^\s+completionMode: Indexed\b/m);
    expect(job).toMatch(/^\s+completions: 3\b/m);
    expect(job).toMatch(/name: GEOMSTREAM_SHARDS\n\s+value: "3"/);
    const jobArgs = /^\s+args: \[run, pipelines\/tanh-vs-relu.ts, (.*)\]$/m.exec(job)![1];
    expect(jobArgs).toContain('--shard, auto');
    for (const f of flags(jobArgs)) expect(runFlags, f).toContain(f);
    // geomstream status on a complete dataset: per shard, exit 0 (incomplete, exit 3: test/resume.test.ts).
    expect(cmds[2]).toEqual({
      cmd: 'geomstream status results/tanh-vs-relu',
      comment: 'per shard: ensembles and runs done; exit 0 only when complete',
    });
    const status = await run('node', ['bin/geomstream.js', 'status', a.dir]);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/: complete; 2\/2 ensembles, 4 runs \(4 completed, 0 diverged, 0 failed\)/);
    expect(status.stdout.trim().split('\n').pop()).toBe('complete');
  });

  it('The results folder: the layout lists what the folders hold, and nothing they hold is missing from it', async () => {
    const entries = block('The results folder', 'results/<pipeline>/')
      .split('\n')
      .filter((l) => /^ {2}\S/.test(l))
      .map((l) => {
        const [, names, what] = /^ {2}((?:[^\s,]+)(?:, [^\s,]+)*)\s+(.*)$/.exec(l)!;
        return { names: names.split(', '), what };
      });
    const pattern = (name: string) =>
      new RegExp(
        `^${name
          .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
          .replace(/<[^>]+>/g, '[^/]+')
          .replace(/\*/g, '[^/]*')}${name.endsWith('/') ? '' : '$'}`,
      );
    const files = new Set([...seenWhileWriting, ...[a, b, c].flatMap((s) => walk(s.dir))]);
    const names = entries.flatMap((e) => e.names);
    for (const name of names)
      expect(
        [...files].some((f) => pattern(name).test(f)),
        `${name}: no such file in the folders`,
      ).toBe(true);
    for (const f of files)
      expect(
        names.some((n) => pattern(n).test(f)),
        `${f}: not in the README's layout`,
      ).toBe(true);
    // What the lines say about the files.
    const manifest = JSON.parse(readFileSync(join(a.dir, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest)).toEqual(
      expect.arrayContaining(['schema_version', 'pipeline', 'configuration', 'files', 'runs', 'error_rows']),
    );
    expect(Object.keys(manifest)).toEqual(expect.arrayContaining(['complete', 'stopped', 'error', 'ensembles']));
    expect(manifest.ensembles.map((e: { files: string[] }) => e.files.length > 0)).toEqual([true, true]);
    expect(JSON.parse(lock)).toMatchObject({ host: hostname(), pid: process.pid });
    expect(tableFromIPC(readFileSync(join(a.dir, 'metrics.arrows'))).numRows).toBe(manifest.metric_rows);
    const lines = (f: string) => readFileSync(join(a.dir, f), 'utf8').trim().split('\n').length;
    expect([lines('metrics.ndjson'), lines('runs.ndjson')]).toEqual([manifest.metric_rows, 4]);
    const { rows: parts } = await queryResults(
      a.dir,
      `SELECT filename, count(DISTINCT ensemble_id)::INTEGER AS ensembles FROM read_parquet('${a.dir}/metrics/*.parquet', filename = true) GROUP BY ALL`,
    );
    expect(parts.map((p) => [/\/part-[0-9a-f]{12}-\d+\.parquet$/.test(String(p.filename)), p.ensembles])).toEqual([
      [true, 1],
      [true, 1],
    ]);
    const errors = await queryResults(c.dir, `SELECT * FROM read_parquet('${c.dir}/errors/*.parquet')`);
    expect(entries.find((e) => e.names[0] === 'errors/part-*.parquet')!.what).toMatch(/^path, step, error: /);
    expect(errors.columns).toEqual(['path', 'step', 'error']);
    expect(errors.rows).toHaveLength(1);
  });

  it('The results folder: the DuckDB query runs as written', async () => {
    const sql = block('The results folder', 'SELECT r.activation, r.alignment, m.against').replaceAll(
      'results/tanh-vs-relu',
      a.dir,
    );
    const { rows } = await queryResults(a.dir, sql);
    expect(rows.map((r) => `${r.activation} ${r.alignment} ${r.against}`)).toEqual([
      'relu 0.6547 input',
      'relu 0.6547 target',
      'tanh 0.6547 input',
      'tanh 0.6547 target',
    ]);
    for (const r of rows) expect(r.kernel_alignment as number).toBeGreaterThan(0);
  });

  it.skipIf(python.status !== 0)(
    'The results folder: the pandas / polars snippet runs, with the same numbers',
    async () => {
      const script = join(tmp, 'read.py');
      writeFileSync(
        script,
        `${block('The results folder', 'import pandas as pd').replaceAll('results/tanh-vs-relu', a.dir)}\nprint("polars rows", len(m))\n`,
      );
      const r = await run('python3', [script]);
      expect(r.stderr).not.toMatch(/Traceback/);
      expect(r.status).toBe(0);
      const { rows } = await queryResults(
        a.dir,
        "SELECT r.activation, m.against, avg(m.value) AS v FROM metrics m JOIN runs r USING (run_id) WHERE m.metric = 'kernel_alignment' AND m.scope = 'run' AND m.step = r.steps GROUP BY ALL",
      );
      // The table printed: one line per (alignment, activation), the columns input and target.
      expect(r.stdout).toMatch(/^against\s+input\s+target$/m);
      const printed = [...r.stdout.matchAll(/(relu|tanh)\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)\s*$/gm)];
      expect(printed.map((p) => p[1])).toEqual(['relu', 'tanh']);
      for (const [, activation, input, target] of printed) {
        const v = (against: string) =>
          rows.find((x) => x.activation === activation && x.against === against)!.v as number;
        expect(Number(input)).toBeCloseTo(v('input'), 5);
        expect(Number(target)).toBeCloseTo(v('target'), 5);
      }
      const manifest = JSON.parse(readFileSync(join(a.dir, 'manifest.json'), 'utf8'));
      expect(r.stdout).toContain(`polars rows ${manifest.metric_rows}\n`);
    },
  );

  it('The summary views: each holds what the table says, and the example query runs', async () => {
    const views = async (s: ResultsSummary) =>
      (await queryResults(s.dir, 'SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1')).rows.map(
        (r) => r.view_name,
      );
    expect(await views(a)).toEqual(['final', 'metrics', 'runs']);
    expect(await views(b)).toEqual(['field', 'final', 'metrics', 'neurons', 'runs']);
    expect(await views(c)).toEqual(['final', 'metrics', 'runs']); // errors/ has no view
    const table = section('### The summary views')
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => l.split('|')[1].trim().split(', '))
      .map((v) => v.replaceAll('`', ''));
    expect(table.sort()).toEqual([...new Set([...(await views(a)), ...(await views(b))])].sort());
    expect(section('### The summary views')).toContain('`errors/` has no view');
    expect(readme).toContain('over the views `runs`, `metrics`, `final`, `neurons` and `field`');
    const one = async (s: ResultsSummary, sql: string) => (await queryResults(s.dir, sql)).rows[0];
    const manifest = JSON.parse(readFileSync(join(a.dir, 'manifest.json'), 'utf8'));
    // runs: one row per run (a sharded dataset's files as one: test/resume.test.ts); metrics: every row.
    expect(await one(a, 'SELECT count(*)::INTEGER AS n, count(DISTINCT run_id)::INTEGER AS ids FROM runs')).toEqual({
      n: 4,
      ids: 4,
    });
    expect(await one(a, 'SELECT count(*)::INTEGER AS n FROM metrics')).toEqual({ n: manifest.metric_rows });
    expect((await queryResults(a.dir, 'SELECT * FROM metrics LIMIT 0')).columns).toEqual(metricColumns());
    // final: a run's rows at its last checkpoint (step = runs.steps), an ensemble's at its last.
    const last = `SELECT count(*)::INTEGER AS n FROM metrics m JOIN runs r USING (run_id) WHERE m.step = r.steps`;
    expect(await one(a, "SELECT count(*)::INTEGER AS n FROM final WHERE scope = 'run'")).toEqual(await one(a, last));
    const ens = await one(
      a,
      `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE f.step = s.steps)::INTEGER AS last FROM final f
       JOIN (SELECT ensemble_id, max(steps) AS steps FROM runs GROUP BY ALL) s USING (ensemble_id) WHERE f.scope = 'ensemble'`,
    );
    expect(ens.n).toBeGreaterThan(0);
    expect(ens.last).toBe(ens.n);
    // neurons, field: their files, with the columns the README lists.
    const listed = (start: string, end: string) => {
      const at = readme.indexOf(start);
      return [...readme.slice(at, readme.indexOf(end, at)).matchAll(/`([^`]*)`/g)]
        .flatMap((m) => m[1].split(', '))
        .filter((n) => /^\w+$/.test(n));
    };
    const neuronCols = listed('**neurons** (`neurons/*.parquet`)', '**field**');
    const fieldCols = listed('**field** (`field/*.parquet`)', '\n\n');
    expect((await queryResults(b.dir, 'SELECT * FROM neurons LIMIT 0')).columns).toEqual(neuronCols);
    expect((await queryResults(b.dir, 'SELECT * FROM field LIMIT 0')).columns).toEqual(fieldCols);
    expect(await one(b, 'SELECT count(*)::INTEGER AS n FROM neurons')).toEqual(
      await one(b, `SELECT count(*)::INTEGER AS n FROM read_parquet('${b.dir}/neurons/*.parquet')`),
    );
    // The example: the README's DuckDB query over the files, through the views.
    const example = await queryResults(
      a.dir,
      block('The summary views', 'SELECT r.activation, r.alignment, f.against'),
    );
    const files = await queryResults(
      a.dir,
      block('The results folder', 'SELECT r.activation, r.alignment, m.against').replaceAll(
        'results/tanh-vs-relu',
        a.dir,
      ),
    );
    expect(example.columns).toEqual(files.columns);
    expect(example.rows).toHaveLength(4);
    expect(text(example.rows)).toEqual(text(files.rows));
  });

  it('Code layout: the paths exist, every src/ folder is listed, the commands, scripts and entry points it names exist', async () => {
    const entries: Array<{ path: string; what: string }> = [];
    for (const l of block('Code layout', 'src/maths').split('\n')) {
      const m = /^(\S+)\s+(.*)$/.exec(l);
      if (m) entries.push({ path: m[1], what: m[2] });
      else entries[entries.length - 1].what += ` ${l.trim()}`;
    }
    for (const { path, what } of entries) {
      expect(existsSync(join(root, path)), path).toBe(true);
      for (const [token] of what.matchAll(/[\w.-]*\w\/[\w./-]*|[\w-]+\.(?:wat|md|ts|py|jsonc)\b/g)) {
        if (token.startsWith('geomstream/')) {
          const entry = `./${token.slice('geomstream/'.length)}`;
          expect(pkg.exports[entry]?.default, token).toBe(`./dist/${token.slice('geomstream/'.length)}/index.js`);
        } else
          expect(existsSync(join(root, token)) || existsSync(join(root, path, token)), `${path}: ${token}`).toBe(true);
      }
      for (const [, script] of what.matchAll(/npm run ([\w:]+)/g)) expect(pkg.scripts[script], script).toBeTruthy();
    }
    const listed = new Set(entries.map((e) => e.path));
    for (const d of readdirSync(join(root, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory()))
      expect(listed, `src/${d.name}`).toContain(`src/${d.name}`);
    // The CLI's commands, as its --help lists them.
    const help = await run('node', ['bin/geomstream.js', '--help']);
    const cli = help.stdout
      .slice(help.stdout.indexOf('Commands:'))
      .split('\n')
      .map((l) => /^ {2}(\w+)/.exec(l)?.[1])
      .filter((c): c is string => !!c && c !== 'help');
    const said = /\(([^)]*)\)/.exec(entries.find((e) => e.path === 'src/cli')!.what)![1].split(', ');
    expect(said.sort()).toEqual(cli.sort());
    // The package entry points the README's TypeScript imports (replaced here by their sources).
    for (const [name, source] of Object.entries(ENTRY_POINTS))
      expect(pkg.exports[name === 'geomstream' ? '.' : `./${name.slice('geomstream/'.length)}`].default).toBe(
        source.replace('../src/', './dist/'),
      );
  });
});

/** The columns of the README's metrics table. */
function metricColumns(): string[] {
  const table = readme.slice(readme.indexOf('**metrics** (`metrics/*.parquet`)'), readme.indexOf('**neurons**'));
  return table
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => l.split('|')[1].trim().split(', '))
    .map((c) => c.replaceAll('`', ''));
}
