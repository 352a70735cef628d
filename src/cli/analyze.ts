/**
 * `geomstream analyze <path>`: checkpoints or saved activations of any network into a results
 * folder (see src/analysis.ts), with progress and errors on stderr, an optional live Arrow stream
 * of the metric rows (`--stream -` on stdout), and a summary of the final values at the end.
 */
import { readFileSync } from 'node:fs';
import { streamTarget } from './stream.js';
import { livePort, startLivePage } from '../live/server.js';
import { readNpy } from '../formats/npy.js';
import { analyzeFiles } from '../analysis.js';
import { ConfigError } from '../errors.js';
import { readTaskFile } from '../sources/task-file.js';
import type { MetricRequest } from '../operators/geometry.js';
import type { ActivationSpec } from '../activations.js';
import { formatTable, queryResults } from '../query/results.js';

export interface AnalyzeCliOptions {
  task?: string;
  conditions?: string;
  activation?: string;
  network?: string;
  map?: string;
  metrics?: string;
  samplesPerCondition?: number;
  watch?: boolean;
  idleExit?: number;
  settle?: number;
  poll?: number;
  out: string;
  name?: string;
  stream?: string;
  live?: string | true;
  progress: boolean;
}

/** A value of a `name:key=value` metric option: a number when it reads as one, else the text. */
const optionValue = (v: string): unknown =>
  v !== '' && Number.isFinite(Number(v)) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;

/**
 * `--metrics kernel_alignment:against=target,ps,ccgp:classifier=ridge` → metric requests (a name,
 * then `:key=value` options).
 */
export function parseMetricList(text: string): MetricRequest[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [name, ...opts] = item.split(':');
      // Typed by what geometry() validates: the names and options are checked there, before any work.
      if (!opts.length) return name as MetricRequest;
      const req: Record<string, unknown> & { name: string } = { name };
      for (const o of opts) {
        const eq = o.indexOf('=');
        if (eq <= 0)
          throw new ConfigError('metrics', item, "name or name:option=value (e.g. 'kernel_alignment:against=target')");
        req[o.slice(0, eq)] = optionValue(o.slice(eq + 1));
      }
      return req as unknown as MetricRequest;
    });
}

function networkActivation(opts: AnalyzeCliOptions): ActivationSpec | undefined {
  if (opts.activation && opts.network)
    throw new ConfigError('network', opts.network, 'either --activation or --network, not both');
  if (opts.activation) return opts.activation as ActivationSpec;
  if (!opts.network) return undefined;
  let net: unknown;
  try {
    net = JSON.parse(readFileSync(opts.network, 'utf8'));
  } catch (e) {
    throw new ConfigError('network', opts.network, `a JSON file { "activation": … } (${(e as Error).message})`);
  }
  const act = (net as { activation?: unknown })?.activation;
  if (act === undefined)
    throw new ConfigError('network.activation', undefined, 'an activation name or { name, ...parameters }');
  return act as ActivationSpec;
}

/** The conditions of a .npy activity file's rows: a .npy vector or a JSON array. */
function readConditions(path: string): number[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ConfigError(
      'conditions',
      path,
      `a .npy vector or a JSON array of condition indices (${(e as Error).message})`,
    );
  }
  if (path.toLowerCase().endsWith('.npy')) return Array.from(readNpy(bytes).data);
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (Array.isArray(v) && v.every((x) => Number.isInteger(x))) return v as number[];
  } catch {
    /* below */
  }
  throw new ConfigError('conditions', path, 'a .npy vector or a JSON array of condition indices');
}

/** Run the analyze command; sets the exit code (0 ok, 1 some files could not be used). */
export async function analyzeCommand(path: string, opts: AnalyzeCliOptions): Promise<void> {
  if (!opts.task)
    throw new ConfigError(
      'task',
      undefined,
      'a task file (--task task.json, or the .safetensors/.npz written by geomstream task)',
    );
  const task = readTaskFile(opts.task, 'task');
  const activation = networkActivation(opts);
  const metrics = opts.metrics ? parseMetricList(opts.metrics) : undefined;
  const conditions = opts.conditions ? readConditions(opts.conditions) : undefined;
  // Before any handler is installed: a port in use is a bad option, with nothing to undo.
  const live =
    opts.live === undefined ? undefined : await startLivePage({ port: livePort(opts.live), title: opts.name ?? path });
  if (live) process.stderr.write(`geomstream: live page at ${live.url} (until the command stops)\n`);
  const controller = new AbortController();
  let signalName: string | null = null;
  const onSignal = (name: string) => () => {
    signalName = name;
    process.stderr.write(`geomstream: ${name}: finishing the current file, then writing the dataset\n`);
    controller.abort();
  };
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  process.once('SIGINT', handlers.SIGINT);
  process.once('SIGTERM', handlers.SIGTERM);
  const stream = streamTarget(opts.stream);
  // With the rows on stdout, everything else goes to stderr.
  const say = (s: string) => (stream?.stdout ? process.stderr : process.stdout).write(s);
  let files = 0,
    errors = 0,
    rows = 0,
    lastStep: number | null = null,
    lag: number | null = null;
  // Lag: from a checkpoint file's last modification to its first metric row.
  const written = new Map<number, number>();
  let lastPrint = 0;
  let lastLine = '';
  const progress = (force = false) => {
    if (!opts.progress) return;
    const now = performance.now();
    if (!force && now - lastPrint < 2000) return;
    lastPrint = now;
    const line = `geomstream analyze: ${files} checkpoints read, ${errors} rejected, ${rows} metric rows${lastStep === null ? '' : `, last step ${lastStep}`}${lag === null ? '' : `, lag ${lag.toFixed(0)} ms`}\n`;
    if (line !== lastLine) process.stderr.write(line);
    lastLine = line;
  };
  const seenSteps = new Set<string>();
  let finished = 'stopped by an error';
  try {
    await analyzeFiles({
      path,
      task,
      activation,
      map: opts.map,
      conditions,
      metrics,
      samplesPerCondition: opts.samplesPerCondition,
      watch: opts.watch,
      idleExit: opts.idleExit,
      settle: opts.settle,
      poll: opts.poll,
      signal: controller.signal,
      out: opts.out,
      name: opts.name,
      stream: stream?.open,
      // The summary is read while the dataset's lock is held.
      afterWrite: async (summary) => {
        progress(true);
        say(
          `\n${summary.dir}: ${summary.runs.total} runs, ${summary.metricRows} metric rows, ${errors} files or metrics rejected${signalName ? ` (stopped by ${signalName})` : ''}\n`,
        );
        if (summary.metricRows > 0) {
          const { columns, rows: table } = await queryResults(
            summary.dir,
            `SELECT run_id, step, metric, against, round(avg(value), 4) AS value
            FROM final WHERE scope = 'run' GROUP BY ALL ORDER BY run_id, metric, against`,
          );
          say(`\nfinal values (mean over dichotomies)\n\n${formatTable(columns, table)}\n`);
        }
      },
      onError: (e) => {
        errors++;
        process.stderr.write(`geomstream: ${e.path}${e.step === null ? '' : ` (step ${e.step})`}: ${e.error}\n`);
      },
      onWarning: (m) => process.stderr.write(`geomstream: warning: ${m}\n`),
      onFile: (f) => {
        if (opts.watch) written.set(f.step, f.mtimeMs);
      },
      onRecord: (r) => {
        live?.update(r);
        if (r.kind === 'metric') {
          rows++;
          const t = written.get(r.step);
          if (t !== undefined) {
            lag = Date.now() - t;
            written.delete(r.step);
          }
        }
        if (
          (r.kind === 'snapshot' || r.kind === 'representation') &&
          !seenSteps.has(`${r.ensemble_id}\u0000${r.step}`)
        ) {
          seenSteps.add(`${r.ensemble_id}\u0000${r.step}`);
          files++;
          lastStep = r.step;
        }
        progress();
      },
    });
    if (errors > 0) process.exitCode = 1;
    finished = signalName ? `stopped by ${signalName}` : 'finished';
  } finally {
    await live?.close(finished);
    process.off('SIGINT', handlers.SIGINT);
    process.off('SIGTERM', handlers.SIGTERM);
    await stream?.close();
  }
}
