/**
 * The results-folder sink (docs/architecture.md, The results folder): routes a pipeline's records into one dataset that
 * DuckDB, pandas, polars and pyarrow read directly.
 *
 *   <dir>/runs.parquet            one row per run (configuration, backend, status, wall time)
 *   <dir>/metrics/part-*.parquet  long format, one part per finished ensemble (or per 200k rows)
 *   <dir>/neurons/part-*.parquet  weight-space dynamics per neuron (from weightDynamics)
 *   <dir>/field/part-*.parquet    expected-gradient fields (from weightDynamics({ field }))
 *   <dir>/errors/part-*.parquet   files an ingestion source could not use: path, step, error
 *   <dir>/metrics.arrows          the same rows as an Arrow IPC stream   (format 'arrow')
 *   <dir>/metrics.ndjson, runs.ndjson                                   (format 'ndjson')
 *   <dir>/snapshots.arrows        weight snapshots                       (option snapshots: true or 'arrow')
 *   <dir>/snapshots/<ensemble>/step-*.safetensors  the same, one file per ensemble and step (snapshots: 'safetensors')
 *   <dir>/manifest.json           schema version, pipeline, configuration, what is complete
 *
 * With `shard: { index: i, count: n }` (deterministic `--shard i/n` runs on several machines into
 * one folder), every file name carries the shard — runs.shard-i-of-n.parquet,
 * manifest.shard-i-of-n.json, metrics/part-si-of-n-*.parquet — so shards never overwrite each
 * other, and `runs*.parquet`, `metrics/*.parquet` read the whole dataset.
 *
 * Every file is written under a temporary name and renamed. runs.parquet and the manifest are
 * rewritten after each finished ensemble, so after a crash the folder still describes every run
 * that finished, and `complete: false` says the pipeline did not.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { access, mkdir, readdir, rm, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorRow, FieldRow, MetricRow, NeuronRow, RunRecord, StreamRecord, WeightSnapshot } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { metricsTable, neuronsTable, fieldTable, errorsTable, runRow, runsTable, snapshotsTable, METRIC_COLUMNS, NEURON_COLUMNS, FIELD_COLUMNS, ERROR_COLUMNS } from './tables.js';
import { writeParquet, type ParquetCompression } from './parquet.js';
import { ArrowStreamFile } from './arrow-ipc.js';
import { NdjsonFile } from './ndjson.js';
import { writeFileAtomic } from './atomic.js';
import { SnapshotFiles } from './snapshot-files.js';

export const SCHEMA_VERSION = 1;
export const FORMATS = ['parquet', 'arrow', 'ndjson'] as const;
export type ResultFormat = (typeof FORMATS)[number];
export const SNAPSHOT_FORMATS = ['arrow', 'safetensors'] as const;
export type SnapshotFormat = (typeof SNAPSHOT_FORMATS)[number];

export interface ResultsOptions {
  /** The results folder of this pipeline, e.g. `results/tanh-vs-relu`. */
  dir: string;
  /** Pipeline name (written to runs.parquet and the manifest). */
  pipeline: string;
  /** Formats for the metrics (Parquet is always written: the summary and readers rely on it). Default ['parquet']. */
  formats?: ResultFormat[];
  /**
   * Also write every weight snapshot: true or 'arrow' to snapshots.arrows, 'safetensors' to one
   * file per ensemble and checkpoint under snapshots/ (the format `analyze` reads). Default false.
   */
  snapshots?: boolean | SnapshotFormat;
  /** Parquet codec. Default 'zstd'. */
  compression?: ParquetCompression;
  /** Configuration to record in the manifest (seed, grid, options...). */
  configuration?: Record<string, unknown>;
  /** Metric rows kept in memory before a part is written even mid-ensemble. Default 200000. */
  partRows?: number;
  /** This writer's shard of a sharded pipeline (see the module comment). */
  shard?: Shard;
  /** Called when the stream ends: how it stopped (e.g. 'end of input', 'idle for 30 s', 'SIGINT'), written to the manifest as `stopped`. */
  stopReason?: () => string | null;
  /**
   * Milliseconds after which rows held in memory are written as a part even mid-run (a watched
   * folder's runs never end until it stops). Default: parts at run boundaries and every `partRows`.
   */
  flushEvery?: number;
  /** Called with every error row as it arrives (the CLI prints one stderr line each). */
  onError?: (row: ErrorRow) => void;
}

/** One of n deterministic slices of a pipeline's ensembles. */
export interface Shard {
  index: number;
  count: number;
}

/** File-name pieces of a shard: a suffix for single files, a prefix for parts. */
function shardNames(shard?: Shard): { suffix: string; part: string } {
  if (!shard || shard.count === 1) return { suffix: '', part: 'part' };
  return { suffix: `.shard-${shard.index}-of-${shard.count}`, part: `part-s${shard.index}-of-${shard.count}` };
}

/** What the sink wrote. */
export interface ResultsSummary {
  dir: string;
  files: string[];
  metricRows: number;
  runs: { total: number; completed: number; diverged: number; failed: number };
  backend: string | null;
}

const OWN_FILES = /^((runs|manifest|metrics|snapshots)(\.shard-\d+-of-\d+)?\.(parquet|json|arrows|ndjson)|report\.html)$/;
const OWN_FOLDERS = ['metrics', 'neurons', 'field', 'errors', 'snapshots'];

/** A dataset (pipeline) name must stay inside the results folder: no separators, no '..'. */
export function checkDatasetName(name: string, field = 'name'): string {
  if (typeof name !== 'string' || !name || /[/\\\0]/.test(name) || name === '.' || name === '..') {
    throw new ConfigError(field, name, "a folder name without '/', '\\' or '..'");
  }
  return name;
}

/**
 * Make sure `dir` can be created and written, and clear the results of a previous run of the same
 * pipeline there (only geomstream's own files and the metrics/ folder), so rows are never counted
 * twice. Throws a ConfigError naming `field` otherwise. Call before any training starts.
 */
export async function prepareResultsDir(dir: string, field = 'out', shard?: Shard): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    const probe = join(dir, `.geomstream-write-test.${process.pid}.tmp`);
    await writeFileAtomic(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    throw new ConfigError(field, dir, `a folder that can be created and written (${(e as Error).message})`);
  }
  const { suffix, part } = shardNames(shard);
  for (const name of await readdir(dir)) {
    if (!shard || shard.count === 1) {
      // An unsharded run replaces the whole dataset, shards included.
      if (OWN_FILES.test(name) || OWN_FOLDERS.includes(name)) await rm(join(dir, name), { recursive: true, force: true });
    } else if (OWN_FILES.test(name) && name.includes(`${suffix}.`)) {
      await rm(join(dir, name), { force: true });
    } else if (OWN_FOLDERS.includes(name)) {
      // A shard replaces only its own parts.
      for (const f of await readdir(join(dir, name))) if (f.startsWith(`${part}-`)) await rm(join(dir, name, f), { force: true });
    }
  }
}

/** Write a pipeline's records into a results folder; emits one `ResultsSummary` when the source completes. */
export function writeResults(options: ResultsOptions): OperatorFunction<StreamRecord, ResultsSummary> {
  const formats = new Set<ResultFormat>(['parquet', ...(options.formats ?? [])]);
  for (const f of formats) if (!(FORMATS as readonly string[]).includes(f)) throw new ConfigError('formats', f, FORMATS.map((x) => `'${x}'`).join(', '));
  if (options.snapshots !== undefined && typeof options.snapshots !== 'boolean' && !(SNAPSHOT_FORMATS as readonly string[]).includes(options.snapshots)) {
    throw new ConfigError('snapshots', options.snapshots, `true, false, ${SNAPSHOT_FORMATS.map((f) => `'${f}'`).join(', ')}`);
  }
  const partRows = requireNumber('partRows', options.partRows ?? 200_000, { integer: true, min: 1 });
  if (options.flushEvery !== undefined) requireNumber('flushEvery', options.flushEvery, { min: 1 });
  const { dir, pipeline } = options;
  const { suffix, part } = shardNames(options.shard);

  return (source) =>
    new Observable<ResultsSummary>((subscriber) => {
      const files = new Set<string>();
      const runs: RunRecord[] = [];
      let metrics: MetricRow[] = [];
      let snaps: WeightSnapshot[] = [];
      let neurons: NeuronRow[] = [];
      let field: FieldRow[] = [];
      let errors: ErrorRow[] = [];
      let errorRows = 0;
      // Next part number of each folder; `partPath` names the next part.
      const partCounts = { metrics: 0, neurons: 0, field: 0, errors: 0 };
      const partPath = (folder: keyof typeof partCounts) => `${folder}/${part}-${String(partCounts[folder]++).padStart(5, '0')}.parquet`;
      let metricRows = 0;
      let runsDirty = false;
      let backend: string | null = null;
      const arrow = formats.has('arrow') ? new ArrowStreamFile(join(dir, `metrics${suffix}.arrows`)) : null;
      const ndjson = formats.has('ndjson') ? new NdjsonFile(join(dir, `metrics${suffix}.ndjson`)) : null;
      const snapFile = options.snapshots === true || options.snapshots === 'arrow' ? new ArrowStreamFile(join(dir, `snapshots${suffix}.arrows`)) : null;
      const snapFiles = options.snapshots === 'safetensors' ? new SnapshotFiles(dir) : null;
      // All writes go through one queue, in order.
      let queue: Promise<void> = Promise.resolve();
      let failed = false;
      const enqueue = (job: () => Promise<void>) => {
        queue = queue.then(job).catch((e) => {
          if (!failed) { failed = true; subscriber.error(e); }
        });
      };

      const summary = (): ResultsSummary => ({
        dir, files: [...files].sort(), metricRows, backend,
        runs: {
          total: runs.length,
          completed: runs.filter((r) => r.status === 'completed').length,
          diverged: runs.filter((r) => r.status === 'diverged').length,
          failed: runs.filter((r) => r.status === 'failed').length,
        },
      });

      const writeManifest = (complete: boolean, error: string | null = null) =>
        writeFileAtomic(join(dir, `manifest${suffix}.json`), JSON.stringify({
          schema_version: SCHEMA_VERSION,
          pipeline,
          shard: options.shard ?? null,
          complete,
          error,
          stopped: complete ? options.stopReason?.() ?? 'end of input' : null,
          updated_at: new Date().toISOString(),
          backend,
          configuration: options.configuration ?? {},
          files: [...files].sort(),
          runs: summary().runs,
          metric_rows: metricRows,
          error_rows: errorRows,
          columns: {
            metrics: Object.keys(METRIC_COLUMNS), neurons: Object.keys(NEURON_COLUMNS), field: Object.keys(FIELD_COLUMNS),
            errors: Object.keys(ERROR_COLUMNS),
            runs: runs.length ? Object.keys(runRow(runs[0], pipeline)) : [],
          },
        }, null, 2) + '\n').then(() => { files.add(`manifest${suffix}.json`); });

      const flushMetrics = () => {
        if (!metrics.length) return;
        const rows = metrics;
        metrics = [];
        const name = partPath('metrics');
        enqueue(async () => {
          const table = metricsTable(rows);
          await writeParquet(table, join(dir, name), options.compression);
          files.add(name);
          if (arrow) { await arrow.append(table); files.add(`metrics${suffix}.arrows`); }
          if (ndjson) { await ndjson.append(rows.map(({ kind: _k, ...r }) => r)); files.add(`metrics${suffix}.ndjson`); }
          metricRows += rows.length;
        });
      };

      // Weight-space tables: Parquet parts only.
      const flushOther = () => {
        const write = (name: string, table: ReturnType<typeof neuronsTable>) =>
          enqueue(async () => { await writeParquet(table, join(dir, name), options.compression); files.add(name); });
        if (neurons.length) write(partPath('neurons'), neuronsTable(neurons));
        if (field.length) write(partPath('field'), fieldTable(field));
        if (errors.length) {
          const n = errors.length;
          write(partPath('errors'), errorsTable(errors));
          enqueue(async () => { errorRows += n; });
        }
        neurons = [];
        field = [];
        errors = [];
      };

      const flushSnapshots = () => {
        if (!snapFile || !snaps.length) return;
        const batch = snaps;
        snaps = [];
        enqueue(async () => { await snapFile.append(snapshotsTable(batch)); files.add(`snapshots${suffix}.arrows`); });
      };

      const flushRuns = () => {
        if (!runsDirty) return;
        runsDirty = false;
        const records = runs.slice();
        enqueue(async () => {
          if (records.length) {
            await writeParquet(runsTable(records, pipeline), join(dir, `runs${suffix}.parquet`), options.compression);
            files.add(`runs${suffix}.parquet`);
          }
          await writeManifest(false);
        });
      };

      enqueue(() => writeManifest(false));
      let timer: NodeJS.Timeout | null = null;
      const armTimer = () => {
        if (options.flushEvery === undefined || timer) return;
        timer = setTimeout(() => {
          timer = null;
          flushMetrics(); flushOther(); flushSnapshots();
          enqueue(() => writeManifest(false)); // so that metric_rows and files say what is on disk
        }, options.flushEvery);
      };
      const sub = source.subscribe({
        next(r) {
          if (r.kind === 'metric' || r.kind === 'neuron' || r.kind === 'field') armTimer();
          if (r.kind === 'metric') {
            metrics.push(r);
            if (metrics.length >= partRows) flushMetrics();
          } else if (r.kind === 'neuron' || r.kind === 'field') {
            if (r.kind === 'neuron') neurons.push(r); else field.push(r);
            if (neurons.length + field.length >= partRows) flushOther();
          } else if (r.kind === 'error') {
            options.onError?.(r);
            errors.push(r);
            // Errors are rare and each one matters: written at once, so a crash keeps them.
            flushOther();
          } else if (r.kind === 'run') {
            // An ensemble's run records arrive together, after all its rows: a natural part
            // boundary (with several workers, rows of other ensembles may be in the part too).
            flushMetrics();
            flushOther();
            flushSnapshots();
            runs.push(r);
            backend = r.backend;
            runsDirty = true;
          } else {
            flushRuns();
            if (r.kind === 'snapshot' && snapFile) snaps.push(r);
            if (r.kind === 'snapshot' && snapFiles) enqueue(async () => { await snapFiles.add(r); for (const f of snapFiles.written.splice(0)) files.add(f); });
          }
        },
        error(e) {
          if (timer) clearTimeout(timer);
          flushMetrics();
          flushOther();
          flushSnapshots();
          flushRuns();
          enqueue(async () => {
            await Promise.all([arrow?.close(), ndjson?.close(), snapFile?.close()]);
            await writeManifest(false, e instanceof Error ? e.message : String(e));
          });
          enqueue(async () => { if (!failed) subscriber.error(e); });
        },
        complete() {
          if (timer) clearTimeout(timer);
          flushMetrics();
          flushOther();
          flushSnapshots();
          runsDirty = true;
          flushRuns();
          enqueue(async () => {
            await Promise.all([arrow?.close(), ndjson?.close(), snapFile?.close()]);
            if (formats.has('ndjson')) {
              const f = new NdjsonFile(join(dir, `runs${suffix}.ndjson`));
              await f.append(runs.map((r) => runRow(r, pipeline)));
              await f.close();
              files.add(`runs${suffix}.ndjson`);
            }
            await writeManifest(true);
            subscriber.next(summary());
            subscriber.complete();
          });
        },
      });
      return () => { if (timer) clearTimeout(timer); sub.unsubscribe(); };
    });
}
