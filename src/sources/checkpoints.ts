/**
 * `fromCheckpoints`: checkpoint files written by another program (PyTorch, JAX, numpy) or by
 * `geomstream run --snapshots safetensors`, read as `WeightSnapshot`s, so `probe`, `geometry` and
 * `weightDynamics` work on them unchanged.
 *
 * Files: safetensors and .npz, one per checkpoint; a folder of them is one run (or one ensemble),
 * and each direct subfolder another. The step comes from the safetensors header's
 * `__metadata__.step`, else from the first integer in the file name; files are read in step order.
 * Tensors (names changed by `map`): `W` [H, N], `b1` [H], `J` [K, H], `b2` [K] — the orientation
 * of `NetworkParams` and of PyTorch's `nn.Linear.weight` — and hidden layers 2..depth as `W_{l}`
 * [H, H], `b_{l}` [H]. A leading dimension S on every tensor is an ensemble of S networks: run ids
 * `<name>/0`…`<name>/S−1` (or the header's `__metadata__.run_ids`, a JSON array).
 *
 * A file that cannot be used — unreadable, malformed, a tensor missing, a shape that does not fit
 * the task, non-finite weights, a step already read — becomes one `ErrorRow` and the stream goes
 * on. At the end, one `RunRecord` per run (source 'checkpoints'; no training fields).
 */
import { Observable } from 'rxjs';
import { basename, extname } from 'node:path';
import type { IngestedRunSpec, NetworkParams, StreamRecord, Task, WeightSnapshot } from '../types.js';
import { IngestedRuns, errorRow } from './ingested-runs.js';
import type { ActivationSpec } from '../activations.js';
import { resolveActivation } from '../activations.js';
import { ConfigError } from '../errors.js';
import { readSafetensors } from '../formats/safetensors.js';
import { readNpz } from '../formats/npz.js';
import type { Tensor } from '../formats/tensor.js';
import {
  readyFiles,
  safetensorsHeadOf,
  stepFromName,
  watchOptions,
  withTeardown,
  type FoundFile,
  type StopInfo,
  type WatchOptions,
} from './watch.js';

/**
 * Tensor roles and their default names. Hidden layers 2..depth: the pattern roles W_l, b_l, where
 * `{l}` stands for the layer number, or one role per layer, W_2, b_2, W_3, … (for names that do
 * not follow the layer number, e.g. nn.Sequential's '2.weight', '4.weight').
 */
export const DEFAULT_TENSOR_MAP = { W: 'W', b1: 'b1', J: 'J', b2: 'b2', W_l: 'W_{l}', b_l: 'b_{l}' } as const;
export type TensorRole = keyof typeof DEFAULT_TENSOR_MAP;

/** A resolved tensor map: a name per role, and the hidden layers named one by one (layer → names). */
export type TensorMap = Record<TensorRole, string> & {
  layers: Map<number, { W?: string; b?: string }>;
  ignore: Set<string>;
};

export interface CheckpointsOptions extends WatchOptions {
  /** A checkpoint file, or a folder of them (each direct subfolder: another run or ensemble). */
  path: string;
  /** The task the network was trained on (its input means are probed; N and K check the shapes). */
  task: Task;
  /** What is known of the network: its activation (required to probe it). */
  network: { activation: ActivationSpec };
  /**
   * Tensor names by role, as an object or as 'W=fc1.weight,b1=fc1.bias,J=fc2.weight,b2=fc2.bias'.
   * Roles: W, b1, J, b2; hidden layers 2..depth by W_l, b_l ('{l}' stands for the layer number)
   * or one by one as W_2, b_2, W_3, …; `ignore=a|b` names tensors that are not part of the network.
   */
  map?: Partial<Record<TensorRole, string>> | Record<string, string> | string;
  /** Run-id prefix. Default: the file's or folder's name. */
  name?: string;
}

/** Resolve a tensor map (object or 'role=name,…' text) over the defaults; unknown roles are a ConfigError. */
export function tensorMap(map: CheckpointsOptions['map']): TensorMap {
  const roles = Object.keys(DEFAULT_TENSOR_MAP) as TensorRole[];
  let given: Record<string, unknown> = {};
  if (typeof map === 'string') {
    for (const part of map
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const eq = part.indexOf('=');
      if (eq <= 0)
        throw new ConfigError('map', part, "role=tensor pairs separated by commas, e.g. 'W=fc1.weight,b1=fc1.bias'");
      given[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    }
  } else if (map != null) {
    if (typeof map !== 'object')
      throw new ConfigError('map', map, 'an object { role: tensor name } or a string role=name,…');
    given = map as Record<string, unknown>;
  }
  const out = { ...DEFAULT_TENSOR_MAP, layers: new Map(), ignore: new Set() } as TensorMap;
  for (const [k, v] of Object.entries(given)) {
    if (k === 'ignore') {
      // Tensors of the file that are not part of the network (e.g. another module's H × H weights).
      if (typeof v !== 'string') throw new ConfigError('map.ignore', v, "tensor names separated by '|'");
      for (const name of v
        .split('|')
        .map((x) => x.trim())
        .filter(Boolean))
        out.ignore.add(name);
      continue;
    }
    const layer = /^([Wb])_(\d+)$/.exec(k);
    if (!roles.includes(k as TensorRole) && !(layer && Number(layer[2]) >= 2)) {
      throw new ConfigError(
        `map.${k}`,
        v,
        `the roles ${roles.join(', ')}, or W_2, b_2, W_3, … for hidden layers one by one`,
      );
    }
    if (typeof v !== 'string' || !v) throw new ConfigError(`map.${k}`, v, 'a tensor name');
    if (layer) {
      const entry = out.layers.get(Number(layer[2])) ?? {};
      entry[layer[1] as 'W' | 'b'] = v;
      out.layers.set(Number(layer[2]), entry);
    } else out[k as TensorRole] = v;
  }
  for (const role of ['W_l', 'b_l'] as const) {
    // Without it every layer would have the same name (and the search for layers would not end).
    if (!out[role].includes('{l}'))
      throw new ConfigError(
        `map.${role}`,
        out[role],
        "a name with '{l}' for the layer number (e.g. 'layers.{l}.weight'), or W_2, b_2, … one by one",
      );
  }
  const numbers = [...out.layers.keys()].sort((a, b) => a - b);
  numbers.forEach((n, i) => {
    const e = out.layers.get(n)!;
    if (n !== i + 2)
      throw new ConfigError(
        `map.W_${n}`,
        e.W ?? e.b,
        `hidden layers numbered from 2 without gaps (layer ${i + 2} is missing)`,
      );
    if (!e.W || !e.b)
      throw new ConfigError(
        `map.${e.W ? 'b' : 'W'}_${n}`,
        undefined,
        `a tensor name: layer ${n} needs both W_${n} and b_${n}`,
      );
  });
  return out;
}

export const CHECKPOINT_FILE = /\.(safetensors|npz)$/i;

/** A checkpoint's tensors and metadata from its bytes (throws a ConfigError for a malformed file). */
function parseCheckpoint(
  path: string,
  bytes: Uint8Array,
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  if (extname(path).toLowerCase() === '.npz') return { tensors: readNpz(bytes), metadata: {} };
  return readSafetensors(bytes);
}

/** The step of a checkpoint: `__metadata__.step`, else the first integer of the file name. */
function stepOf(path: string, metadata: Record<string, string>): number {
  const meta = metadata.step;
  if (meta !== undefined) {
    const n = Number(meta);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError('__metadata__.step', meta, 'a non-negative integer');
    return n;
  }
  const fromName = stepFromName(path);
  if (fromName === null)
    throw new ConfigError('step', basename(path), 'a __metadata__.step entry or an integer in the file name');
  return fromName;
}

/** The step without reading the whole file (for ordering); null when it cannot be told yet. */
function peekStep(path: string): number | null {
  if (extname(path).toLowerCase() === '.safetensors') {
    try {
      const step = safetensorsHeadOf(path).header?.metadata.step;
      if (step !== undefined && Number.isInteger(Number(step))) return Number(step);
    } catch {
      /* the full read reports it */
    }
  }
  return stepFromName(path);
}

/**
 * Read one checkpoint file through every check the source makes (format, step, tensors, shapes,
 * values): its step and networks, or a ConfigError. For checking a folder's first file up front.
 */
export function readCheckpointFile(
  path: string,
  bytes: Uint8Array,
  map: TensorMap,
  task: Pick<Task, 'N' | 'K'>,
): { step: number; params: NetworkParams[]; metadata: Record<string, string> } {
  const { tensors, metadata } = parseCheckpoint(path, bytes);
  return { step: stepOf(path, metadata), params: checkpointParams(tensors, map, task), metadata };
}

/** Files in step order within each group (groups in name order); files without a step last. */
export function checkpointOrder<F extends FoundFile>(files: F[]): F[] {
  const keyed = files.map((f) => ({ f, step: peekStep(f.path) ?? Infinity }));
  keyed.sort(
    (a, b) => (a.f.group ?? '').localeCompare(b.f.group ?? '') || a.step - b.step || a.f.path.localeCompare(b.f.path),
  );
  return keyed.map((k) => k.f);
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * The networks of one checkpoint: the tensors named by `map`, shapes checked against the task
 * (N inputs, K outputs) and each other, values finite. Throws a ConfigError naming the tensor.
 */
export function checkpointParams(
  tensors: Map<string, Tensor>,
  map: TensorMap,
  task: Pick<Task, 'N' | 'K'>,
): NetworkParams[] {
  const get = (role: TensorRole, name: string): Tensor => {
    const t = tensors.get(name);
    if (!t)
      throw new ConfigError(
        `tensor '${name}' (${role})`,
        'missing',
        `a tensor of that name; the file has ${[...tensors.keys()].join(', ') || 'none'} (rename with --map ${role}=…)`,
      );
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array))
      throw new ConfigError(`tensor '${name}'.dtype`, t.dtype, 'F16, BF16, F32 or F64');
    return t;
  };
  const W = get('W', map.W);
  if (W.shape.length !== 2 && W.shape.length !== 3)
    throw new ConfigError(
      `tensor '${map.W}'.shape`,
      shapeText(W.shape),
      `[H, ${task.N}] or, for an ensemble, [S, H, ${task.N}]`,
    );
  const last = W.shape[W.shape.length - 1];
  if (last !== task.N && W.shape[W.shape.length - 2] === task.N) {
    throw new ConfigError(
      `tensor '${map.W}'.shape`,
      shapeText(W.shape),
      `[H, ${task.N}] (outputs × inputs, as nn.Linear.weight): this one looks transposed ([inputs, outputs], as a JAX/flax kernel); save its transpose`,
    );
  }
  const batched = W.shape.length === 3;
  const S = batched ? W.shape[0] : 1;
  const H = W.shape[batched ? 1 : 0];
  const lead = batched ? [S] : [];
  const expect = (t: Tensor, name: string, shape: number[]) => {
    const want = [...lead, ...shape];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new ConfigError(
        `tensor '${name}'.shape`,
        shapeText(t.shape),
        `${shapeText(want)} (task: N = ${task.N} inputs, K = ${task.K} outputs; width H = ${H} from '${map.W}'${batched ? `, ensemble of S = ${S}` : ''})`,
      );
    }
    let bad = 0;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) bad++;
    if (bad)
      throw new ConfigError(
        `tensor '${name}'`,
        `${bad} non-finite value${bad > 1 ? 's' : ''} (NaN or Inf)`,
        'finite weights',
      );
    return t;
  };
  expect(W, map.W, [H, task.N]);
  const b1 = expect(get('b1', map.b1), map.b1, [H]);
  const J = expect(get('J', map.J), map.J, [task.K, H]);
  const b2 = expect(get('b2', map.b2), map.b2, [task.K]);
  const deep: Array<{ W: Tensor; b: Tensor }> = [];
  const used = new Set([map.W, map.b1, map.J, map.b2]);
  const layerNames = map.layers.size
    ? [...map.layers.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => ({ W: e.W!, b: e.b! }))
    : Array.from({ length: tensors.size }, (_, i) => ({
        W: map.W_l.replaceAll('{l}', String(i + 2)),
        b: map.b_l.replaceAll('{l}', String(i + 2)),
      })).filter((_n, i, all) => all.slice(0, i + 1).every((x) => tensors.has(x.W)));
  for (const [i, n] of layerNames.entries()) {
    deep.push({
      W: expect(get(`W_${i + 2}` as TensorRole, n.W), n.W, [H, H]),
      b: expect(get(`b_${i + 2}` as TensorRole, n.b), n.b, [H]),
    });
    used.add(n.W).add(n.b);
  }
  // A hidden-layer-shaped tensor left out of the map would silently make a deeper network a one-layer one.
  for (const [name, t] of tensors) {
    const inner = t.shape.slice(batched ? 1 : 0);
    if (
      !used.has(name) &&
      !map.ignore.has(name) &&
      inner.length === 2 &&
      inner[0] === H &&
      inner[1] === H &&
      !(t.data instanceof Int32Array)
    ) {
      throw new ConfigError(
        `tensor '${name}'`,
        `unmapped, shape ${shapeText(t.shape)}`,
        `a map naming every hidden layer: it looks like one (H × H); name it (--map …,W_2=${name},b_2=<its bias>) or leave it out (--map …,ignore=${name})`,
      );
    }
  }
  const slice = (t: Tensor, s: number) => {
    const n = t.data.length / S;
    return Float32Array.from(t.data.subarray(s * n, (s + 1) * n));
  };
  return Array.from({ length: S }, (_, s) => {
    const p: NetworkParams = {
      N: task.N,
      H,
      K: task.K,
      W: slice(W, s),
      b1: slice(b1, s),
      J: slice(J, s),
      b2: slice(b2, s),
    };
    if (deep.length) p.layers = deep.map((d) => ({ W: slice(d.W, s), b: slice(d.b, s) }));
    return p;
  });
}

function runIds(metadata: Record<string, string>, name: string, S: number): string[] {
  if (metadata.run_ids) {
    try {
      const ids = JSON.parse(metadata.run_ids) as unknown;
      if (Array.isArray(ids) && ids.length === S && ids.every((x) => typeof x === 'string')) return ids as string[];
    } catch {
      /* fall back to the numbered ids */
    }
    throw new ConfigError('__metadata__.run_ids', metadata.run_ids, `a JSON array of ${S} strings (one per network)`);
  }
  return S === 1 ? [name] : Array.from({ length: S }, (_, s) => `${name}/${s}`);
}

/**
 * Read checkpoint files as `WeightSnapshot`s (see the module comment), then a `RunRecord` per run.
 * With `watch`, the folder is tailed (see sources/watch.ts) until `signal` aborts or `idleExit`
 * seconds pass without a new file; the snapshots of a watched folder are never `final`, since
 * another could come. Options are checked when this is called, before anything is read.
 */
export function fromCheckpoints(
  options: CheckpointsOptions,
  stop: StopInfo = { reason: '' },
): Observable<StreamRecord> {
  const map = tensorMap(options.map);
  resolveActivation(options.network?.activation, 'network.activation'); // validated now, before anything is read
  const watch = watchOptions(options);
  const task = options.task;
  if (!task || typeof task.N !== 'number')
    throw new ConfigError('task', task, 'a Task (from a task file or a source function)');
  if (task.N === 0)
    throw new ConfigError(
      'task',
      task.id,
      'a task with input means (checkpoints are probed on them): give a task file with a family, or means',
    );
  const base = options.name ?? basename(options.path).replace(/\.(safetensors|npz)$/i, '');
  return new Observable<StreamRecord>((subscriber) => {
    const { options: watched, teardown } = withTeardown(options);
    let cancelled = false;
    const runs = new IngestedRuns();
    const stepsSeen = new Map<string, Map<number, string>>();
    const emitError = (path: string, step: number | null, e: unknown) => subscriber.next(errorRow(path, step, e));
    (async () => {
      const files = readyFiles(options.path, (n) => CHECKPOINT_FILE.test(n), watched, checkpointOrder, stop);
      // Without watch, the last file of each group is that run's final checkpoint: hold one file back.
      let held: WeightSnapshot[] = [];
      const release = (final: boolean) => {
        for (const s of held) subscriber.next(final ? { ...s, final: true } : s);
        held = [];
      };
      let heldGroup: string | null | undefined;
      for await (const f of files) {
        if (cancelled) return;
        if (f.error !== undefined) {
          emitError(f.path, stepFromName(f.path), f.error);
          continue;
        }
        // Until the file's own step is read, its name's (for the error row of an unreadable file).
        let step: number | null = stepFromName(f.path);
        try {
          const file = readCheckpointFile(f.path, f.bytes, map, task);
          const { params, metadata } = file;
          step = file.step;
          const group = f.group === null ? base : `${base}/${f.group}`;
          const seen = stepsSeen.get(group) ?? new Map<number, string>();
          stepsSeen.set(group, seen);
          if (seen.has(step))
            throw new ConfigError(
              'step',
              step,
              `one file per step: step ${step} of '${group}' was already read from ${seen.get(step)}`,
            );
          const ids = runIds(metadata, group, params.length);
          seen.set(step, f.path);
          options.onFile?.({ path: f.path, step, mtimeMs: f.mtimeMs });
          const ensemble_id = metadata.ensemble_id ?? group;
          const snaps = params.map((p, s): WeightSnapshot => {
            const run = runs.at(
              ids[s],
              step!,
              (): IngestedRunSpec => ({
                kind: 'run-spec',
                run_id: ids[s],
                ensemble_id,
                coords: {},
                task,
                source: 'checkpoints',
                source_path: f.group === null ? options.path : `${options.path}/${f.group}`,
                seed: null,
                training: null,
                data_seed:
                  metadata.data_seed !== undefined && Number.isInteger(Number(metadata.data_seed))
                    ? Number(metadata.data_seed)
                    : null,
                network: { activation: options.network.activation, width: p.H, depth: 1 + (p.layers?.length ?? 0) },
              }),
            );
            return {
              kind: 'snapshot',
              run_id: ids[s],
              ensemble_id,
              step: step!,
              epoch: null,
              loss: null,
              accuracy: null,
              params: p,
              run,
              ensemble_size: params.length,
              final: false,
              source_file: f.path,
            };
          });
          if (watch.watch) for (const s of snaps) subscriber.next(s);
          else {
            if (heldGroup !== undefined && heldGroup !== group) release(true);
            else release(false);
            held = snaps;
            heldGroup = group;
          }
        } catch (e) {
          emitError(f.path, step, e);
        }
      }
      // Stopped by a signal before the end: the last file read is not the run's last checkpoint.
      release(stop.reason !== 'signal');
      if (cancelled) return;
      for (const r of runs.records()) subscriber.next(r);
      subscriber.complete();
    })().catch((e) => subscriber.error(e));
    return () => {
      cancelled = true;
      teardown();
    };
  });
}
