/**
 * The `geomstream` command line.
 *
 *   geomstream run <pipeline.ts> [--out results] [--backend auto|tensorflow|wasm|cpu] [--engine auto|kernel|tfjs] [--workers n] [--shard i/n|auto] [--shards n]
 *                                [--if-exists resume|overwrite|error] [--quick] [--seed n] [--format parquet,arrow,ndjson] [--snapshots]
 *   geomstream status <results-dir>
 *   geomstream analyze <path> --task task.json [--activation NAME | --network net.json] [--map …] [--metrics …]
 *                     [--samples-per-condition n] [--watch] [--idle-exit s] [--settle ms] [--out results] [--name NAME] [--stream -|PATH]
 *   geomstream task <task.json> --out <file.safetensors|file.npz> [--samples n] [--seed n]
 *   geomstream report <results-dir> [--figures-dir DIR]
 *   geomstream bench [--workloads W1,metrics] [--repeats 3] [--no-reference] [--engine auto|kernel|tfjs] [--workers n] [--json]
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import cliProgress from 'cli-progress';
import { pipelineParams, runPipeline, type Pipeline } from '../pipeline.js';
import { formatParams, resolveParams } from '../params.js';
import { ConfigError } from '../errors.js';
import { FORMATS, SNAPSHOT_FORMATS, type ResultFormat, type SnapshotFormat } from '../sinks/results.js';
import { streamTarget } from './stream.js';
import { formatTable, queryResults } from '../query/results.js';
import { bench } from '../bench/bench.js';
import { report } from '../query/report.js';
import { livePort, startLivePage } from '../live/server.js';
import { WORKLOADS } from '../bench/workloads.js';
import { analyzeCommand } from './analyze.js';
import { taskCommand } from './task.js';
import { resolveShard } from './shard.js';
import { IF_EXISTS, type IfExists, type Shard } from '../sinks/dataset.js';
import { datasetStatus, formatStatus } from '../sinks/status.js';
import { readFileSync } from 'node:fs';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

function parseNonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`received '${v}'; accepted: a number >= 0`);
  return n;
}

/** Load the default export of a pipeline file (TypeScript files need the tsx loader, which the bin registers). */
export async function loadPipeline(file: string): Promise<Pipeline> {
  const path = resolve(file);
  if (!existsSync(path))
    throw new ConfigError('pipeline', file, 'the path of an existing pipeline file (e.g. pipelines/tanh-vs-relu.ts)');
  const mod = await import(pathToFileURL(path).href);
  const p = mod.default ?? mod.pipeline;
  if (!p || typeof p.runs !== 'function' || typeof p.process !== 'function') {
    throw new ConfigError('pipeline', file, 'a module whose default export is definePipeline({ name, runs, process })');
  }
  return p as Pipeline;
}

function parseFormats(v: string): ResultFormat[] {
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const f of list) {
    if (!(FORMATS as readonly string[]).includes(f))
      throw new InvalidArgumentError(`received '${f}'; accepted: ${FORMATS.join(', ')}`);
  }
  return list as ResultFormat[];
}

function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`received '${v}'; accepted: a positive integer`);
  return n;
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`received '${v}'; accepted: a non-negative integer`);
  return n;
}

async function run(
  file: string,
  opts: {
    out: string;
    backend?: string;
    engine?: string;
    workers: number;
    shard?: Shard | 'auto';
    shards?: number;
    ifExists: IfExists;
    set: Record<string, string>;
    listParams?: boolean;
    quick?: boolean;
    seed?: number;
    format?: ResultFormat[];
    snapshots?: boolean | SnapshotFormat;
    stream?: string;
    live?: string | true;
    progress: boolean;
  },
) {
  const pipeline = await loadPipeline(file);
  const livePortNumber = opts.live === undefined ? undefined : livePort(opts.live);
  if (opts.listParams) {
    const defaults = pipelineParams(pipeline, opts.quick);
    resolveParams(defaults, opts.set); // a bad --set is reported here too
    console.log(
      `${pipeline.name}: parameters (--set name=value)${opts.quick ? ', with --quick' : ''}\n${formatParams(defaults)}`,
    );
    return;
  }
  // The environment is read here, by the CLI only: library calls do what their arguments say.
  const shard = resolveShard(opts.shard, opts.shards, process.env);
  if (shard && shard.from !== '--shard')
    process.stderr.write(`geomstream: shard ${shard.shard.index}/${shard.shard.count} (from ${shard.from})\n`);
  const outStream = streamTarget(opts.stream);
  // With the rows on stdout, the summary goes to stderr.
  const log = (text: string) => (outStream?.stdout ? process.stderr.write(`${text}\n`) : console.log(text));
  // The page starts once the options are checked (a bad --set first) and before any handler is
  // installed: a port in use is a bad option, exit 2, with nothing to undo.
  if (livePortNumber !== undefined) resolveParams(pipelineParams(pipeline, opts.quick), opts.set);
  const live =
    livePortNumber === undefined ? undefined : await startLivePage({ port: livePortNumber, title: pipeline.name });
  if (live) process.stderr.write(`geomstream: live page at ${live.url} (until the pipeline stops)\n`);
  const started = performance.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${pipeline.name}${shard ? ` shard ${shard.shard.index}/${shard.shard.count}` : ''} |{bar}| {percentage}% | {runs} runs | {value}/{total} network-steps, {rate} per s | {duration_formatted} elapsed, ETA {eta_formatted}`,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let barStarted = false;
  let done = 0;
  let runsDone = 0;
  let runsTotal = 0;
  let outDir = opts.out;
  // If the pipeline's stream ever waits on nothing (a bug in an operator), Node would exit with
  // code 13 and no word; say what happened and where the partial results are.
  const stalled = () => {
    if (barStarted) bar.stop();
    process.stderr.write(
      `geomstream: the pipeline stopped before finishing, with nothing left to wait on (a stalled stream, a bug); ` +
        `what was written is in ${outDir}, its manifest says complete: false\n`,
    );
    process.exitCode = 3;
  };
  process.once('beforeExit', stalled);
  // SIGTERM (scancel, preemption, kubectl delete) or SIGINT: stop at once; the lock goes with the
  // process ('exit'), what is complete stays, and a rerun resumes.
  const interrupted = (signal: NodeJS.Signals) => {
    if (barStarted) bar.stop();
    process.stderr.write(
      `\ngeomstream: ${signal}: stopped; the finished ensembles are in ${outDir} (complete: false), a rerun resumes\n`,
    );
    process.exit(3);
  };
  process.once('SIGTERM', interrupted);
  process.once('SIGINT', interrupted);
  let liveDone = 0;
  let liveTotal = 0;
  let finished = 'stopped by an error';
  try {
    await runPipeline(pipeline, {
      out: opts.out,
      quick: opts.quick,
      seed: opts.seed,
      ifExists: opts.ifExists,
      shard: shard?.shard,
      set: opts.set,
      backend: opts.backend ?? (process.env.GEOMSTREAM_BACKEND || undefined),
      engine: opts.engine ?? (process.env.GEOMSTREAM_ENGINE || undefined),
      workers: opts.workers,
      formats: opts.format,
      snapshots: opts.snapshots,
      stream: outStream?.open,
      onStart: ({ runs, networkSteps, dir, backend, engine, kernelRuns, keptRuns }) => {
        outDir = dir;
        if (keptRuns)
          process.stderr.write(
            `geomstream: resuming ${dir}: ${keptRuns} runs are complete there already; ${runs} to train (--if-exists overwrite starts again)\n`,
          );
        if (runs) {
          process.stderr.write(
            `geomstream: backend ${backend}; ${kernelRuns} of ${runs} runs train on the SIMD kernel, ${runs - kernelRuns} on tfjs (engine ${engine})\n`,
          );
          process.stderr.write(`geomstream: ${runs} runs of '${pipeline.name}' into ${dir}\n`);
        }
        runsTotal = runs;
        liveTotal = networkSteps;
        live?.runsTotal(runs);
        live?.progress(0, networkSteps);
        if (opts.progress && runs) {
          bar.start(networkSteps, 0, { rate: '-', runs: `0/${runs}` });
          barStarted = true;
        }
      },
      onSteps: (n) => {
        liveDone += n;
        live?.progress(liveDone, liveTotal);
        if (!barStarted) return;
        done += n;
        bar.increment(n, {
          rate: Math.round(done / Math.max(1e-3, (performance.now() - started) / 1000)).toLocaleString('en-US'),
        });
      },
      onRun: () => {
        runsDone++;
        if (barStarted) bar.update({ runs: `${runsDone}/${runsTotal}` });
      },
      onRecord: live ? (r) => live.update(r) : undefined,
      onWarning: (m) => process.stderr.write(`geomstream: warning: ${m}\n`),
      // The summary is read while the dataset's lock is held: a second writer cannot replace it meanwhile.
      afterWrite: async (summary) => {
        if (barStarted) {
          bar.stop();
          barStarted = false;
        }
        const seconds = (performance.now() - started) / 1000;
        const r = summary.runs;
        await outStream?.close();
        const kept = summary.ensembles.kept
          ? ` (${summary.ensembles.kept} ensembles kept from before, ${summary.ensembles.written} written now)`
          : '';
        log(
          `\n${pipeline.name}${shard ? ` shard ${shard.shard.index}/${shard.shard.count}` : ''}: ${r.completed} completed, ${r.diverged} diverged, ${r.failed} failed of ${r.total} runs${kept}; ` +
            `${summary.metricRows} metric rows in ${summary.dir} (${seconds.toFixed(1)} s, backend ${summary.backend})`,
        );
        if (pipeline.summary) {
          const { columns, rows } = await queryResults(summary.dir, pipeline.summary.sql);
          log(`\n${pipeline.summary.title}\n\n${formatTable(columns, rows)}\n`);
        }
        if (r.failed > 0) process.exitCode = 1;
        finished = 'finished';
      },
    });
  } finally {
    await live?.close(finished);
    process.off('beforeExit', stalled);
    process.off('SIGTERM', interrupted);
    process.off('SIGINT', interrupted);
    if (barStarted) bar.stop();
  }
}

export function program(): Command {
  const cmd = new Command('geomstream')
    .description('Representational-geometry experiments on neural networks, as RxJS pipelines, into Arrow and Parquet.')
    .version(VERSION)
    // Bad options are bad input (exit 2, as every ConfigError), not commander's exit 1, which means
    // "some runs failed"; subcommands inherit this.
    .exitOverride();
  cmd
    .command('run')
    .description('run a pipeline file and write its results folder, then print its summary')
    .argument('<pipeline>', 'a pipeline file, e.g. pipelines/tanh-vs-relu.ts')
    .option('--out <dir>', 'parent folder of the results (written to <dir>/<pipeline name>)', 'results')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu (default: GEOMSTREAM_BACKEND, else auto)')
    .option(
      '--engine <name>',
      'auto | kernel | tfjs: the SIMD training kernel where it applies, else tfjs (default: GEOMSTREAM_ENGINE, else auto)',
    )
    .addOption(
      new Option(
        '--workers <n>',
        "worker threads: one pool per pipeline, shared by training (an ensemble each, or one ensemble over all of them when that keeps more busy) and the decoding metrics' fits",
      )
        .argParser(parsePositiveInt)
        .default(Math.min(4, availableParallelism()), 'the number of cores, at most 4'),
    )
    .option(
      '--shard <i/n|auto>',
      'train only shard i of n (whole ensembles balanced by cost, deterministic), into shard-named files of the same folder; auto: from SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX (the default inside an array job)',
      (v: string) => {
        if (v === 'auto') return 'auto';
        const m = /^(\d+)\/(\d+)$/.exec(v);
        if (!m || Number(m[1]) >= Number(m[2]))
          throw new InvalidArgumentError(`received '${v}'; accepted: i/n with integers 0 <= i < n, or auto`);
        return { index: Number(m[1]), count: Number(m[2]) };
      },
    )
    .option(
      '--shards <n>',
      'the number of shards with --shard auto in a Kubernetes Indexed Job (default: GEOMSTREAM_SHARDS)',
      parsePositiveInt,
    )
    .addOption(
      new Option(
        '--if-exists <mode>',
        "a dataset already there: resume (keep its complete ensembles, train the rest; refuse another configuration), overwrite (replace geomstream's files, never others), error",
      )
        .choices(IF_EXISTS)
        .default('resume'),
    )
    .option(
      '--set <name=value>',
      'change a pipeline parameter (repeatable; lists as 0,0.1,0.2); --list-params shows them',
      (v: string, acc: Record<string, string>) => {
        const eq = v.indexOf('=');
        if (eq <= 0) throw new InvalidArgumentError(`received '${v}'; accepted: name=value`);
        return { ...acc, [v.slice(0, eq).trim()]: v.slice(eq + 1) };
      },
      {},
    )
    .option('--list-params', "print the pipeline's parameters with their defaults, and stop")
    .option('--quick', 'a smaller, faster version of the pipeline')
    .option('--seed <n>', "override the pipeline's base seed", parseSeed)
    .option('--format <list>', `extra formats for the metrics besides Parquet: ${FORMATS.join(',')}`, parseFormats)
    .option(
      '--snapshots [format]',
      "also write every weight snapshot: 'arrow' (the default: snapshots.arrows) or 'safetensors' (snapshots/<ensemble>/step-*.safetensors, which analyze reads)",
      (v: string) => {
        if (!(SNAPSHOT_FORMATS as readonly string[]).includes(v))
          throw new InvalidArgumentError(`received '${v}'; accepted: ${SNAPSHOT_FORMATS.join(', ')}`);
        return v as SnapshotFormat;
      },
    )
    .option(
      '--stream <path>',
      "also write every metric row as an Arrow IPC stream ('-': stdout; the summary then goes to stderr)",
    )
    .option(
      '--live [port]',
      'serve a page on 127.0.0.1 (port: default any free one) where the figures grow as checkpoints arrive, until the pipeline stops',
    )
    .option('--no-progress', 'no progress line')
    .action(run);
  cmd
    .command('analyze')
    .description(
      "the geometry of any network's checkpoints (safetensors, .npz) or saved activations (Parquet, Arrow, .npy, .npz), into a results folder",
    )
    .argument('<path>', 'a file, or a folder of them (each subfolder another run)')
    .option(
      '--task <file>',
      'the task: a task JSON, or the .safetensors/.npz of geomstream task (or one holding targets [P, K], and means [P, N])',
    )
    .option(
      '--conditions <file>',
      'activations in .npy files: the condition of each row (a .npy vector or a JSON array)',
    )
    .option(
      '--activation <name>',
      'the files are checkpoints of a network with this activation (probed on the task means)',
    )
    .option('--network <file>', 'the same as a JSON file { "activation": … }')
    .option(
      '--map <pairs>',
      "checkpoint tensor names, e.g. 'W=fc1.weight,b1=fc1.bias,J=fc2.weight,b2=fc2.bias' (default W, b1, J, b2)",
    )
    .option('--metrics <list>', 'metrics, with options as name:key=value (default kernel_alignment,ps,ccgp)')
    .option(
      '--samples-per-condition <n>',
      'checkpoints: noisy samples per condition to probe, for sd and decodability (default 0)',
      parseSeed,
    )
    .option('--watch', 'tail the folder: analyse checkpoints as they are written, until SIGINT/SIGTERM or --idle-exit')
    .option('--idle-exit <s>', 'with --watch: stop after this many seconds without a new file', parseNonNegative)
    .option(
      '--settle <ms>',
      'with --watch: how long a file that does not look complete must keep its size before it is read (default 1000)',
      parseNonNegative,
    )
    .option('--poll <ms>', 'with --watch: milliseconds between two looks at the folder (default 100)', parseNonNegative)
    .option('--out <dir>', 'parent folder of the results (written to <dir>/<name>)', 'results')
    .option('--name <name>', "the dataset's name (default: the path's last name)")
    .option('--stream <path>', "also write every metric row as an Arrow IPC stream ('-': stdout; logs go to stderr)")
    .option(
      '--live [port]',
      'serve a page on 127.0.0.1 (port: default any free one) where the figures grow as checkpoints are analysed, until the command stops',
    )
    .option('--no-progress', 'no progress lines')
    .action(analyzeCommand);
  cmd
    .command('task')
    .description('write a task (means, targets, latents, a seeded training set) as tensors for another trainer')
    .argument(
      '<task.json>',
      'a task JSON, e.g. { "family": "aligned-parity", "d": 3, "k": 3, "alignment": 0.33, "N": 100, "sigma": 1, "seed": 0 }',
    )
    .option('--out <file>', 'a .safetensors or .npz file')
    .option('--samples <n>', 'training samples to draw (default 5000)', parsePositiveInt)
    .option('--seed <n>', 'seed of the training samples (default: derived from the task seed)', parseSeed)
    .action(taskCommand);
  cmd
    .command('status')
    .description(
      'what a results folder holds: ensembles and runs done per shard, and whether it is complete (exit 0 only then)',
    )
    .argument('<results-dir>', 'a results folder, e.g. results/tanh-vs-relu')
    .action(async (dir: string) => {
      const s = await datasetStatus(dir);
      console.log(formatStatus(s));
      // 0 complete; 1 complete with failed runs; 3 not complete (interrupted, running, shards missing).
      process.exitCode = !s.complete ? 3 : s.failedRuns ? 1 : 0;
    });
  cmd
    .command('report')
    .description(
      'a self-contained HTML page of a results folder: the figures its data support (Vega-Lite, rendered to SVG) and the final values (written to <results-dir>/report.html)',
    )
    .argument('<results-dir>', 'a results folder, e.g. results/tanh-vs-relu')
    .option(
      '--figures-dir <dir>',
      'also write each figure as <id>.svg and <id>.vl.json (its Vega-Lite spec with the data) here',
    )
    .action(async (dir: string, opts: { figuresDir?: string }) => {
      console.log(await report(dir, { figuresDir: opts.figuresDir }));
    });
  cmd
    .command('bench')
    .description(
      'training throughput and metric cost, side by side with PyTorch and numpy + scikit-learn on this machine',
    )
    .option('--workloads <list>', `comma-separated: ${WORKLOADS.map((w) => w.name).join(',')}`, (v: string) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .option('--repeats <n>', 'repetitions (medians are reported)', parsePositiveInt, 3)
    .option('--no-reference', 'skip the Python references')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu')
    .option('--engine <name>', 'auto | kernel | tfjs')
    .option('--json', 'one JSON line per workload')
    .addOption(
      new Option('--workers <n>', 'worker threads for the training workloads, the ensemble split across them')
        .argParser(parsePositiveInt)
        .default(Math.min(4, availableParallelism()), 'the number of cores, at most 4'),
    )
    .action(async (opts) => {
      await bench({
        ...opts,
        backend: opts.backend ?? (process.env.GEOMSTREAM_BACKEND || undefined),
        engine: opts.engine ?? (process.env.GEOMSTREAM_ENGINE || undefined),
      });
    });
  return cmd;
}

/** Run the CLI with argv; errors print as one line (the field, the value, what is accepted). */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its message (or the help, or the version) already.
      // --help and --version exit 0; a missing command or a bad option is bad input.
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`geomstream: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.GEOMSTREAM_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    // A failed read or write (ENOSPC, EIO, …) is a failure, 1; everything else was rejected input, 2.
    process.exitCode = typeof (e as NodeJS.ErrnoException)?.code === 'string' && !(e instanceof ConfigError) ? 1 : 2;
  }
}

const invokedDirectly =
  process.argv[1] &&
  resolve(process.argv[1]).replace(/\.[cm]?[jt]s$/, '') ===
    resolve(new URL(import.meta.url).pathname).replace(/\.[cm]?[jt]s$/, '');
if (invokedDirectly) await main();
