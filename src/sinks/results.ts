/**
 * The results-folder sink (docs/architecture.md, "The results folder"): routes a pipeline's records
 * into one dataset that DuckDB, pandas, polars and pyarrow read directly.
 *
 *   <dir>/runs.parquet            one row per run (configuration, backend, status, wall time)
 *   <dir>/metrics/part-*.parquet  long format
 *   <dir>/neurons/part-*.parquet  weight-space dynamics per neuron (from weightDynamics)
 *   <dir>/field/part-*.parquet    expected-gradient fields (from weightDynamics({ field }))
 *   <dir>/errors/part-*.parquet   files an ingestion source could not use: path, step, error
 *   <dir>/metrics.arrows          the same rows as an Arrow IPC stream   (format 'arrow')
 *   <dir>/metrics.ndjson, runs.ndjson                                   (format 'ndjson')
 *   <dir>/snapshots.arrows        weight snapshots                       (option snapshots: true or 'arrow')
 *   <dir>/snapshots/<ensemble>/step-*.safetensors  the same, one file per ensemble and step (snapshots: 'safetensors')
 *   <dir>/manifest.json           schema version, pipeline, configuration, what is complete
 *
 * Given the ensembles it is to write (`ensembles`, as `runPipeline` does), the sink writes each
 * ensemble's rows into parts of its own (`part-<tag>-<n>.parquet`, the tag from the ensemble id),
 * and when the ensemble's last run record arrives, records it as complete in the manifest: a killed
 * writer's dataset can be resumed ensemble by ensemble (sinks/dataset.ts). The single-file streams
 * (metrics.arrows, metrics.ndjson, snapshots.arrows) are written per ensemble into hidden segments
 * and joined, in ensemble order, when the stream completes. Without `ensembles` (analyze), rows
 * are written in parts numbered in order, at run boundaries and every `partRows` or `flushEvery`.
 *
 * With `shard: { index: i, count: n }` (a `--shard i/n` run, one of several into one folder),
 * every file name carries the shard — runs.shard-i-of-n.parquet, manifest.shard-i-of-n.json,
 * metrics/part-si-of-n-*.parquet — so shards never overwrite each other, and `runs*.parquet`,
 * `metrics/*.parquet` read the whole dataset.
 *
 * Every file is written under a temporary name and renamed. runs.parquet and the manifest are
 * rewritten after each finished ensemble, so after a crash the folder still describes every run
 * that finished, and `complete: false` says the pipeline did not. Writes go through one queue; a
 * `flow` hears of every queued write, so that training can wait for a slow disk (src/flow.ts).
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import type { ErrorRow, FieldRow, MetricRow, NeuronRow, RunRecord, StreamRecord, WeightSnapshot } from '../types.js';
import { ConfigError, requireNumber } from '../errors.js';
import { metricsTable, neuronsTable, fieldTable, errorsTable, runRow, runsTableOf, snapshotsTable } from './tables.js';
import { writeParquet, type ParquetCompression } from './parquet.js';
import { ArrowStreamFile } from './arrow-ipc.js';
import { NdjsonFile } from './ndjson.js';
import { writeFileAtomic } from './atomic.js';
import { SnapshotFiles } from './snapshot-files.js';
import {
  EMPTY_STATE,
  SEGMENTS,
  ensembleTag,
  segmentName,
  shardNames,
  streamName,
  type EnsembleEntry,
  type ResumeState,
  type RunRow,
  type Shard,
  type StreamFile,
} from './dataset.js';
import type { Flow } from '../flow.js';
import { manifestText } from './manifest.js';
import { joinSegments, type OpenFile } from './stream-join.js';
import { WriteQueue } from './write-queue.js';

export { checkDatasetName, prepareResultsDir, type Shard } from './dataset.js';

export { SCHEMA_VERSION } from './manifest.js';
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
  /** Metric rows of one ensemble kept in memory before a part is written even mid-ensemble. Default 200000. */
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
  /**
   * The ensembles this writer is to write, in order: id, the hash of its runs' configuration, and
   * its run ids (see the module comment). Default: none known (parts numbered in order).
   */
  ensembles?: Array<{ id: string; hash: string; runs: string[] }>;
  /** Written to the manifest: what a resumed writer must share with this one (see planDataset). */
  identity?: Record<string, unknown>;
  /** Ensembles of the whole pipeline (all shards), for the manifest and `geomstream status`. */
  ensemblesInPipeline?: number;
  /** What an earlier writer of this dataset finished, to keep (from planDataset). Default: nothing. */
  resume?: ResumeState;
  /** Told of every queued write (see src/flow.ts). */
  flow?: Flow;
  /** Every ensemble id of this writer (kept and to write) in run order: the order of the rows in the stream files. */
  order?: string[];
}

/** What the sink wrote (with a resumed dataset, the kept ensembles' runs and rows included). */
export interface ResultsSummary {
  dir: string;
  files: string[];
  metricRows: number;
  runs: { total: number; completed: number; diverged: number; failed: number };
  backend: string | null;
  /** Ensembles kept from an earlier writer, and written now. */
  ensembles: { kept: number; written: number };
}

/** The rows of one ensemble not yet written, and what has been written of it. */
interface Group {
  id: string;
  /** Part-name tag; null without `ensembles` (parts numbered in order). */
  tag: string | null;
  /** Run records expected (Infinity when not known). */
  size: number;
  hash: string;
  metrics: MetricRow[];
  neurons: NeuronRow[];
  field: FieldRow[];
  snaps: WeightSnapshot[];
  runs: RunRecord[];
  chunks: { metrics: number; neurons: number; field: number };
  files: string[];
  metricRows: number;
  segments: Partial<Record<StreamFile, ArrowStreamFile | NdjsonFile>>;
}

/** Write a pipeline's records into a results folder; emits one `ResultsSummary` when the source completes. */
export function writeResults(options: ResultsOptions): OperatorFunction<StreamRecord, ResultsSummary> {
  const formats = new Set<ResultFormat>(['parquet', ...(options.formats ?? [])]);
  for (const f of formats)
    if (!(FORMATS as readonly string[]).includes(f))
      throw new ConfigError('formats', f, FORMATS.map((x) => `'${x}'`).join(', '));
  if (
    options.snapshots !== undefined &&
    typeof options.snapshots !== 'boolean' &&
    !(SNAPSHOT_FORMATS as readonly string[]).includes(options.snapshots)
  ) {
    throw new ConfigError(
      'snapshots',
      options.snapshots,
      `true, false, ${SNAPSHOT_FORMATS.map((f) => `'${f}'`).join(', ')}`,
    );
  }
  const partRows = requireNumber('partRows', options.partRows ?? 200_000, { integer: true, min: 1 });
  if (options.flushEvery !== undefined) requireNumber('flushEvery', options.flushEvery, { min: 1 });
  const { dir, pipeline, shard, flow } = options;
  const { suffix, part } = shardNames(shard);
  const streams = streamFiles(options);
  const planned = options.ensembles ?? null;
  const resume = options.resume ?? EMPTY_STATE;

  return (source) =>
    new Observable<ResultsSummary>((subscriber) => {
      const files = new Set<string>();
      for (const e of resume.kept) for (const f of e.files) files.add(f);
      if (resume.complete) for (const s of streams) files.add(streamName(s, suffix));
      if (resume.runRows.length) files.add(`runs${suffix}.parquet`);
      const entries: EnsembleEntry[] = [...resume.kept];
      const runRows: RunRow[] = [...resume.runRows];
      let metricRowsWritten = resume.kept.reduce((n, e) => n + e.metric_rows, 0);
      let written = 0;
      let errors: ErrorRow[] = [];
      let errorRows = 0;
      let errorParts = 0;
      let counter = 0; // part numbers without `ensembles`
      let backend: string | null = (resume.runRows.find((r) => r.backend)?.backend as string | undefined) ?? null;
      const ensembleOf = new Map((planned ?? []).map((e) => [e.id, { id: e.id, hash: e.hash, size: e.runs.length }]));
      const runOf = new Map((planned ?? []).flatMap((e) => e.runs.map((r) => [r, ensembleOf.get(e.id)!] as const)));
      const groups = new Map<string, Group>();
      const snapFiles = options.snapshots === 'safetensors' ? new SnapshotFiles(dir) : null;
      const openSegments = new Set<OpenFile>(); // files being written: removed on failure, whatever their state

      // All writes go through one queue, in order; the flow hears of each.
      const queue = new WriteQueue((e) => cleanUp(e), flow);
      const enqueue = (job: () => Promise<void>) => queue.push(job);

      const group = (key: string): Group => {
        let g = groups.get(key);
        if (!g) {
          const known = ensembleOf.get(key);
          g = {
            id: key,
            tag: planned ? ensembleTag(key) : null,
            size: known?.size ?? Infinity,
            hash: known?.hash ?? '',
            metrics: [],
            neurons: [],
            field: [],
            snaps: [],
            runs: [],
            chunks: { metrics: 0, neurons: 0, field: 0 },
            files: [],
            metricRows: 0,
            segments: {},
          };
          groups.set(key, g);
        }
        return g;
      };
      const keyOfRun = (runId: string) => (planned ? (runOf.get(runId)?.id ?? runId) : '');
      const keyOf = (r: MetricRow | WeightSnapshot) => (planned ? r.ensemble_id : '');

      const summaryRuns = () => ({
        total: runRows.length,
        completed: runRows.filter((r) => r.status === 'completed').length,
        diverged: runRows.filter((r) => r.status === 'diverged').length,
        failed: runRows.filter((r) => r.status === 'failed').length,
      });
      const metricRows = () => metricRowsWritten;
      const summary = (): ResultsSummary => ({
        dir,
        files: [...files].sort(),
        metricRows: metricRows(),
        backend,
        runs: summaryRuns(),
        ensembles: { kept: resume.kept.length, written },
      });

      const writeManifest = (complete: boolean, error: string | null = null) =>
        writeFileAtomic(
          join(dir, `manifest${suffix}.json`),
          manifestText({
            pipeline,
            shard: shard ?? null,
            complete,
            error,
            stopped: complete ? (options.stopReason?.() ?? 'end of input') : null,
            backend,
            configuration: options.configuration ?? {},
            identity: options.identity ?? null,
            files: [...files],
            runs: summaryRuns(),
            metricRows: metricRows(),
            errorRows,
            ensemblesInPipeline: options.ensemblesInPipeline ?? null,
            expectedEnsembles: planned
              ? [...new Set([...resume.kept.map((e) => e.id), ...planned.map((e) => e.id)])]
              : null,
            ensembles: planned ? entries : null,
            runColumns: runRows.length ? Object.keys(runRows[0]) : [],
          }),
        ).then(() => {
          files.add(`manifest${suffix}.json`);
        });

      const segment = (g: Group, s: StreamFile): ArrowStreamFile | NdjsonFile => {
        const name = segmentName(s, shard, g.id);
        if (!g.segments[s]) {
          g.segments[s] = s.endsWith('.ndjson')
            ? new NdjsonFile(join(dir, name))
            : new ArrowStreamFile(join(dir, name));
          openSegments.add(g.segments[s]!);
        }
        return g.segments[s]!;
      };
      const partName = (folder: 'metrics' | 'neurons' | 'field', g: Group) =>
        g.tag === null
          ? `${folder}/${part}-${String(counter++).padStart(5, '0')}.parquet`
          : `${folder}/${part}-${g.tag}-${String(g.chunks[folder]++).padStart(3, '0')}.parquet`;

      /** Write a group's buffered rows: Parquet parts, and its stream segments. */
      const flush = (g: Group) => {
        const write = (name: string, table: Table, after?: () => Promise<void>) =>
          enqueue(async () => {
            await writeParquet(table, join(dir, name), options.compression);
            files.add(name);
            g.files.push(name);
            await after?.();
          });
        if (g.metrics.length) {
          const rows = g.metrics;
          g.metrics = [];
          const table = metricsTable(rows);
          write(partName('metrics', g), table, async () => {
            if (streams.includes('metrics.arrows'))
              await (segment(g, 'metrics.arrows') as ArrowStreamFile).append(table);
            if (streams.includes('metrics.ndjson'))
              await (segment(g, 'metrics.ndjson') as NdjsonFile).append(rows.map(({ kind: _k, ...r }) => r));
            g.metricRows += rows.length;
            metricRowsWritten += rows.length;
          });
        }
        if (g.neurons.length) write(partName('neurons', g), neuronsTable(g.neurons));
        if (g.field.length) write(partName('field', g), fieldTable(g.field));
        g.neurons = [];
        g.field = [];
        if (g.snaps.length && streams.includes('snapshots.arrows')) {
          const table = snapshotsTable(g.snaps);
          enqueue(async () => {
            await (segment(g, 'snapshots.arrows') as ArrowStreamFile).append(table);
          });
        }
        g.snaps = [];
      };

      const flushErrors = () => {
        if (!errors.length) return;
        const rows = errors;
        errors = [];
        const name = `errors/${part}-${String(errorParts++).padStart(5, '0')}.parquet`;
        enqueue(async () => {
          await writeParquet(errorsTable(rows), join(dir, name), options.compression);
          files.add(name);
          errorRows += rows.length;
        });
      };

      let runsChanged = false; // runs.parquet is rewritten only when runs were added (a resume with nothing to do leaves it)
      const writeRuns = () =>
        enqueue(async () => {
          if (runRows.length && runsChanged) {
            runsChanged = false;
            await writeParquet(runsTableOf(runRows), join(dir, `runs${suffix}.parquet`), options.compression);
            files.add(`runs${suffix}.parquet`);
          }
          await writeManifest(false);
        });

      /** A group is done: its rows, its segments closed, its runs in runs.parquet, then its entry in the manifest. */
      const finish = (g: Group) => {
        flush(g);
        groups.delete(g.id);
        const done = g;
        enqueue(async () => {
          for (const [s, f] of Object.entries(done.segments) as Array<[StreamFile, ArrowStreamFile | NdjsonFile]>) {
            await f.close();
            openSegments.delete(f);
            const name = segmentName(s, shard, done.id);
            files.add(name);
            done.files.push(name);
          }
          done.segments = {};
          for (const r of done.runs) runRows.push(runRow(r, pipeline));
          runsChanged ||= done.runs.length > 0;
          entries.push({ id: done.id, hash: done.hash, files: done.files, metric_rows: done.metricRows });
          written++;
        });
        if (planned) writeRuns();
      };

      /** The stream files from their segments, in ensemble order (stream-join.ts), and runs.ndjson. */
      const assemble = async () => {
        if (resume.complete && written === 0) return; // the stream files are as they were
        const rank = new Map((options.order ?? []).map((id, i) => [id, i]));
        const order = [...entries].sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity));
        for (const s of streams) {
          const sources = order.map((e) => segmentName(s, shard, e.id)).filter((f) => files.has(f));
          if (!sources.length) continue;
          await joinSegments(dir, s, streamName(s, suffix), sources, openSegments);
          files.add(streamName(s, suffix));
        }
        if (formats.has('ndjson')) {
          const f = new NdjsonFile(join(dir, `runs${suffix}.ndjson`));
          openSegments.add(f);
          await f.append(runRows);
          await f.close();
          openSegments.delete(f);
          files.add(`runs${suffix}.ndjson`);
        }
      };

      /** A write failed (a full disk, say): no temporary file stays, the manifest says why if it still can be written. */
      const cleanUp = async (e: unknown) => {
        for (const f of openSegments) await f.abort().catch(() => undefined);
        const message = e instanceof Error ? e.message : String(e);
        for (const f of [...files])
          if (f.startsWith(`${SEGMENTS}/`) && !entries.some((x) => x.files.includes(f))) files.delete(f);
        await writeManifest(false, message).catch(() => undefined);
        subscriber.error(e);
      };

      enqueue(() => writeManifest(false));
      let runsDirty = false; // run records arrive together: runs.parquet is written after the last
      let timer: NodeJS.Timeout | null = null;
      const armTimer = () => {
        if (options.flushEvery === undefined || timer) return;
        timer = setTimeout(() => {
          timer = null;
          for (const g of groups.values()) flush(g);
          enqueue(() => writeManifest(false)); // so that metric_rows and files say what is on disk
        }, options.flushEvery);
      };
      const sub = source.subscribe({
        next(r) {
          if (queue.failed) return;
          if (runsDirty && r.kind !== 'run') {
            runsDirty = false;
            writeRuns();
          }
          if (r.kind === 'metric' || r.kind === 'neuron' || r.kind === 'field') armTimer();
          if (r.kind === 'metric') {
            const g = group(keyOf(r));
            g.metrics.push(r);
            if (g.metrics.length >= partRows) flush(g);
          } else if (r.kind === 'neuron' || r.kind === 'field') {
            const g = group(keyOfRun(r.run_id));
            if (r.kind === 'neuron') g.neurons.push(r);
            else g.field.push(r);
            if (g.neurons.length + g.field.length >= partRows) flush(g);
          } else if (r.kind === 'error') {
            options.onError?.(r);
            errors.push(r);
            // Errors are rare and each one matters: written at once, so a crash keeps them.
            flushErrors();
          } else if (r.kind === 'run') {
            backend = r.backend ?? backend;
            const g = group(planned ? r.run.ensemble_id : '');
            g.runs.push(r);
            if (!planned) {
              // Without a plan, a run record is a part boundary (rows of other runs may share the part).
              flush(g);
              for (const x of g.runs.splice(0)) runRows.push(runRow(x, pipeline));
              runsDirty = runsChanged = true;
            } else if (g.runs.length >= g.size) {
              finish(g);
            }
          } else if (r.kind === 'snapshot') {
            if (streams.includes('snapshots.arrows')) group(keyOf(r)).snaps.push(r);
            if (snapFiles) {
              const g = group(keyOf(r));
              enqueue(async () => {
                const f = await snapFiles.add(r);
                if (f) {
                  files.add(f);
                  g.files.push(f);
                }
              });
            }
          }
        },
        error(e) {
          if (timer) clearTimeout(timer);
          if (queue.failed) return;
          // Rows of unfinished ensembles are not written when ensembles are known (a resumed run
          // trains them again); without, they are (an analysis keeps what it read).
          if (!planned) for (const g of groups.values()) flush(g);
          flushErrors();
          enqueue(async () => {
            queue.failed = true;
            await cleanUp(e);
          });
        },
        complete() {
          if (timer) clearTimeout(timer);
          // An ensemble whose run records never came (a pipeline without train) is done when the
          // stream is; without `ensembles`, the one group is.
          for (const g of [...groups.values()]) finish(g);
          flushErrors();
          writeRuns();
          enqueue(async () => {
            await assemble();
            await writeManifest(true);
            subscriber.next(summary());
            subscriber.complete();
          });
        },
      });
      return () => {
        if (timer) clearTimeout(timer);
        sub.unsubscribe();
      };
    });
}

/** The stream files a writer with these options writes. */
export function streamFiles(options: Pick<ResultsOptions, 'formats' | 'snapshots'>): StreamFile[] {
  const out: StreamFile[] = [];
  if (options.formats?.includes('arrow')) out.push('metrics.arrows');
  if (options.formats?.includes('ndjson')) out.push('metrics.ndjson');
  if (options.snapshots === true || options.snapshots === 'arrow') out.push('snapshots.arrows');
  return out;
}
