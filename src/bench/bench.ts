/**
 * `geomstream bench`: geomstream's workloads side by side with the Python references, in the same
 * invocation, alternating (ours, then each reference) over several repetitions; reports medians
 * and our ratio to each reference. Timings on shared machines are noisy: compare the ratios.
 */
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { initBackend } from '../engine/backend.js';
import { WorkerPool } from '../parallel/pool.js';
import { engineChoice } from '../engine/training.js';
import { runIngest, runIngestWatch, writeIngestProblem } from './ingest.js';
import { runE2e, writeE2eProblem } from './e2e.js';
import { NULL_BENCH_METRICS, nullsRepresentation, runNulls, warmUpNulls } from './nulls.js';
import {
  WORKLOADS,
  flopsPerNetworkStep,
  referenceArgs,
  runTrain,
  metricsProblem,
  writeMetricsProblem,
  allMetrics,
  type Workload,
  type IngestWorkload,
  type NullsWorkload,
  type E2eWorkload,
} from './workloads.js';
import { ConfigError } from '../errors.js';

export interface BenchOptions {
  workloads?: string[];
  repeats?: number;
  /** Skip the Python references. */
  reference?: boolean;
  backend?: string;
  /** Training engine: 'auto' (default), 'kernel' or 'tfjs'. */
  engine?: string;
  json?: boolean;
  /** Worker threads for the training workloads (default 1; the ensemble is split across them). */
  workers?: number;
}

export interface BenchResult {
  workload: string;
  backend: string;
  /** Training workloads: the engine that trained ('kernel' or 'tfjs'). */
  engine?: string;
  /** Training workloads: network-steps per second (median). */
  netStepsPerSec?: number;
  gflops?: number;
  /** Metrics and ingest workloads: seconds for the work (median). */
  seconds?: number;
  /** ingest-watch: latency from a checkpoint renamed into place to its first row, in ms. */
  latencyMs?: { median: number; p95: number };
  /** ingest-watch: RSS sampled over the run, MB. */
  rssMB?: number[];
  /** metrics-null: per metric and null model, seconds alone and with the null (medians), and their ratio. */
  nulls?: Array<{ metric: string; model: string; seconds: number; withNull: number; ratio: number }>;
  peakRssMB: number;
  reference: Record<string, number | null>;
  /** ours / reference: > 1 means geomstream is faster. */
  ratio: Record<string, number | null>;
  repeats: number;
  workers: number;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The path of a reference script in bench/reference. */
export function referenceScript(name: string): string {
  // From src/bench (sources) or dist/bench (build), the references live in <package>/bench/reference.
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const dir of [
    join(here, '..', '..', 'bench', 'reference'),
    join(here, '..', '..', '..', 'bench', 'reference'),
  ]) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`bench: reference script ${name} not found`);
}

/**
 * Run a reference script and return the JSON object on its last line of output. It runs only when
 * python3 has the modules it needs, so a failure is a bug in it or in the arguments we pass: it
 * throws, naming the script, its exit status and the end of what it wrote to stderr, rather than
 * leaving the bench's reference column silently empty.
 */
export function runReference(args: string[]): Record<string, unknown> {
  const res = spawnSync('python3', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const what = `bench: reference ${basename(args[0] ?? '')} ${args.slice(1).join(' ')}`;
  const tail = (text: string | null) => (text ?? '').trim().split('\n').slice(-8).join('\n');
  if (res.error) throw new Error(`${what}: python3 failed (${res.error.message})`);
  if (res.status !== 0)
    throw new Error(`${what}: exited with ${res.status ?? res.signal}; its stderr ends:\n${tail(res.stderr)}`);
  const last = res.stdout.trim().split('\n').pop() ?? '';
  let out: unknown;
  try {
    out = JSON.parse(last);
  } catch {
    out = null;
  }
  if (out === null || typeof out !== 'object' || Array.isArray(out))
    throw new Error(
      `${what}: printed no JSON object on its last line, which was ${JSON.stringify(last.slice(0, 200))}`,
    );
  return out as Record<string, unknown>;
}

/** A reference's result value: a finite number, or an error naming what came back. */
function finite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`bench: reference result ${what} is ${JSON.stringify(v)}, not a finite number`);
  return v;
}

/** Whether python3 has the modules a reference needs. */
export function pythonHas(modules: string[]): boolean {
  return spawnSync('python3', ['-c', `import ${modules.join(', ')}`]).status === 0;
}

async function benchOne(
  w: Workload,
  repeats: number,
  withReference: boolean,
  backend: string,
  pool: WorkerPool | null,
  engine?: string,
): Promise<BenchResult> {
  const workers = pool?.size ?? 1;
  const ours: number[] = [];
  const refs: Record<string, number[]> = {};
  const add = (k: string, v: unknown) => (refs[k] ??= []).push(finite(v, k));
  if (w.kind === 'train') {
    const torch = withReference && pythonHas(['numpy', 'torch']);
    const script = torch ? referenceScript('train_reference.py') : '';
    let used = 'unknown';
    for (let r = 0; r < repeats; r++) {
      const run = await runTrain(w, pool, engine);
      ours.push(run.netStepsPerSec);
      used = run.engine;
      if (torch)
        for (const mode of ['loop', 'batched']) {
          add(
            `pytorch-${mode}`,
            runReference([
              script,
              mode,
              String(w.networks),
              String(w.width),
              String(w.bits),
              String(w.epochs),
              ...referenceArgs(w),
            ]).netStepsPerSec as number,
          );
        }
    }
    const value = median(ours);
    const reference = Object.fromEntries(
      ['pytorch-loop', 'pytorch-batched'].map((k) => [k, refs[k] ? median(refs[k]) : null]),
    );
    return {
      workload: w.name,
      backend,
      engine: used,
      netStepsPerSec: value,
      gflops: (value * flopsPerNetworkStep(w)) / 1e9,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      reference,
      ratio: Object.fromEntries(Object.entries(reference).map(([k, v]) => [k, v ? value / v : null])),
      repeats,
      workers,
    };
  }
  if (w.kind === 'ingest') return benchIngest(w, repeats, withReference, backend, pool);
  if (w.kind === 'nulls') return benchNulls(w, repeats, backend, pool);
  if (w.kind === 'e2e') return benchE2e(w, repeats, withReference, backend, pool?.size ?? 1, engine);
  const problem = metricsProblem(w);
  const sk = withReference && pythonHas(['numpy', 'scipy', 'sklearn']);
  const dir = mkdtempSync(join(tmpdir(), 'geomstream-bench-'));
  const file = join(dir, 'problem.json');
  if (sk) writeMetricsProblem(problem, file);
  try {
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await allMetrics(problem, w.classifier, pool);
      ours.push((performance.now() - t0) / 1000);
      if (sk)
        add(
          'numpy-sklearn',
          runReference([referenceScript('metrics_reference.py'), file, '1', w.classifier]).seconds as number,
        );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const value = median(ours);
  const reference = { 'numpy-sklearn': refs['numpy-sklearn'] ? median(refs['numpy-sklearn']) : null };
  return {
    workload: w.name,
    backend,
    seconds: value,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    reference,
    // For times, faster is smaller: ratio = reference time / our time, so > 1 still means we are faster.
    ratio: { 'numpy-sklearn': reference['numpy-sklearn'] ? reference['numpy-sklearn'] / value : null },
    repeats,
    workers,
  };
}

/**
 * The end-to-end workload: the default pipeline (its own worker pool of `workers`) and the PyTorch
 * + scikit-learn script, alternating; medians of the wall times.
 */
async function benchE2e(
  w: E2eWorkload,
  repeats: number,
  withReference: boolean,
  backend: string,
  workers: number,
  engine?: string,
): Promise<BenchResult> {
  const py = withReference && pythonHas(['torch', 'numpy', 'sklearn', 'joblib', 'pyarrow']);
  const dir = mkdtempSync(join(tmpdir(), 'geomstream-bench-'));
  const file = join(dir, 'problem.json');
  const ours: number[] = [];
  const ref: number[] = [];
  try {
    if (py) await writeE2eProblem(file);
    for (let r = 0; r < repeats; r++) {
      ours.push((await runE2e(workers, engine)).seconds);
      if (py) {
        const out = runReference([
          referenceScript('e2e_reference.py'),
          file,
          join(dir, `reference-${r}`),
          String(workers),
        ]);
        ref.push(finite(out.seconds, 'e2e_reference.py seconds'));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const value = median(ours);
  const reference = ref.length ? median(ref) : null;
  return {
    workload: w.name,
    backend,
    seconds: value,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    reference: { 'pytorch-sklearn': reference },
    ratio: { 'pytorch-sklearn': reference ? reference / value : null },
    repeats,
    workers,
  };
}

/** The null-model workload: each metric alone and with its null, alternating; medians of each, and their ratio. */
async function benchNulls(
  w: NullsWorkload,
  repeats: number,
  backend: string,
  pool: WorkerPool | null,
): Promise<BenchResult> {
  const rep = nullsRepresentation(w);
  await warmUpNulls(rep, pool);
  const runs: Array<Awaited<ReturnType<typeof runNulls>>> = [];
  for (let r = 0; r < repeats; r++) runs.push(await runNulls(w, rep, pool));
  const nulls = NULL_BENCH_METRICS.map((m, i) => {
    const seconds = median(runs.map((r) => r[i].alone)),
      withNull = median(runs.map((r) => r[i].withNull));
    return { metric: m.label, model: m.model, seconds, withNull, ratio: withNull / seconds };
  });
  return {
    workload: w.name,
    backend,
    seconds: nulls.reduce((s, n) => s + n.withNull, 0),
    nulls,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    reference: {},
    ratio: {},
    repeats,
    workers: pool?.size ?? 1,
  };
}

/** The ingestion workloads: a folder read through (vs the Python path), or a watched folder (latency, RSS). */
async function benchIngest(
  w: IngestWorkload,
  repeats: number,
  withReference: boolean,
  backend: string,
  pool: WorkerPool | null,
): Promise<BenchResult> {
  const workers = pool?.size ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'geomstream-bench-ingest-'));
  try {
    if (w.watch) {
      const r = await runIngestWatch(dir, w.files, w.interval ?? 50);
      process.stderr.write(
        `bench: ${w.name}: latency rename → row median ${r.medianMs.toFixed(0)} ms, p95 ${r.p95Ms.toFixed(0)} ms; RSS over the run ${r.rssMB.map((v) => v.toFixed(0)).join(', ')} MB\n`,
      );
      return {
        workload: w.name,
        backend,
        seconds: r.medianMs / 1000,
        latencyMs: { median: r.medianMs, p95: r.p95Ms },
        rssMB: r.rssMB,
        peakRssMB: process.resourceUsage().maxRSS / 1024,
        reference: {},
        ratio: {},
        repeats: 1,
        workers: 1,
      };
    }
    const problem = writeIngestProblem(dir, w.files);
    const py = withReference && pythonHas(['numpy', 'scipy', 'sklearn', 'safetensors', 'pyarrow']);
    const ours: number[] = [],
      refs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      ours.push((await runIngest(problem, join(dir, `out-${r}`), workers)).seconds);
      if (py) {
        const res = runReference([
          referenceScript('ingest_reference.py'),
          problem.ckpts,
          problem.taskFile,
          join(dir, `ref-${r}.parquet`),
        ]);
        refs.push(finite(res.seconds, 'ingest_reference.py seconds'));
      }
    }
    const value = median(ours);
    const ref = refs.length ? median(refs) : null;
    return {
      workload: w.name,
      backend,
      seconds: value,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      reference: { 'safetensors-numpy-sklearn': ref },
      ratio: { 'safetensors-numpy-sklearn': ref ? ref / value : null },
      repeats,
      workers,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run the benchmark; prints a table (or JSON lines) and returns the results. */
export async function bench(options: BenchOptions = {}): Promise<BenchResult[]> {
  const names = options.workloads ?? WORKLOADS.map((w) => w.name);
  const unknown = names.filter((n) => !WORKLOADS.some((w) => w.name === n));
  if (unknown.length) throw new ConfigError('workloads', unknown, WORKLOADS.map((w) => w.name).join(', '));
  const repeats = options.repeats ?? 3;
  const engine = engineChoice(options.engine);
  const backend = await initBackend(options.backend);
  const workers = options.workers ?? 1;
  const pool = workers > 1 ? new WorkerPool(workers, options.backend, engine) : null;
  const results: BenchResult[] = [];
  try {
    for (const w of WORKLOADS.filter((x) => names.includes(x.name))) {
      process.stderr.write(`bench: ${w.name} (${w.description}), ${repeats} repetitions, ${workers} worker(s)…\n`);
      const r = await benchOne(w, repeats, options.reference ?? true, backend, pool, engine);
      results.push(r);
      if (options.json) console.log(JSON.stringify(r));
    }
  } finally {
    await pool?.close();
  }
  if (!options.json) {
    console.log(
      `\nmachine: ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'}; backend ${backend}; training in ${workers} worker(s); medians of ${repeats}\n`,
    );
    for (const r of results) {
      if (r.nulls) {
        console.log(
          `${r.workload}: each metric alone and with null: { samples: ${(WORKLOADS.find((w) => w.name === r.workload) as NullsWorkload).draws} }`,
        );
        for (const n of r.nulls)
          console.log(
            `  ${n.metric.padEnd(20)} ${n.model.padEnd(12)} ${n.seconds.toFixed(4)} s → ${n.withNull.toFixed(3)} s (×${n.ratio.toFixed(0)})`,
          );
        continue;
      }
      if (r.latencyMs) {
        console.log(
          `${r.workload.padEnd(8)} latency rename → row: median ${r.latencyMs.median.toFixed(0)} ms, p95 ${r.latencyMs.p95.toFixed(0)} ms; RSS over the run ${r.rssMB!.map((v) => v.toFixed(0)).join(' → ')} MB`,
        );
        continue;
      }
      const ours =
        r.netStepsPerSec !== undefined
          ? `${r.netStepsPerSec.toFixed(0)} network-steps/s (${r.gflops!.toFixed(1)} GFLOP/s, ${r.engine} engine)`
          : `${r.seconds!.toFixed(2)} s`;
      const refs = Object.entries(r.reference)
        .map(
          ([k, v]) =>
            `${k}: ${v === null ? 'n/a' : r.netStepsPerSec !== undefined ? `${v.toFixed(0)}/s` : `${v.toFixed(2)} s`} (ours ×${r.ratio[k]?.toFixed(2) ?? 'n/a'})`,
        )
        .join('; ');
      console.log(`${r.workload.padEnd(8)} geomstream ${ours}; ${refs}; peak RSS ${r.peakRssMB.toFixed(0)} MB`);
    }
  }
  return results;
}
