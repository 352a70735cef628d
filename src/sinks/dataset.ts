/**
 * A results folder as a dataset of ensembles (docs/architecture.md, "Existing datasets"): which of
 * its files are geomstream's own, what an earlier writer finished, and whether a new writer may
 * resume it (`--if-exists resume`), replace it (`overwrite`) or must stop (`error`).
 *
 * Every finished ensemble is an entry of the writer's manifest: its id, a hash of its runs'
 * configuration, and the files that hold its rows (its Parquet parts are its own, named by a tag of
 * the ensemble id). An ensemble is complete when its entry is in the manifest and its files exist;
 * anything else a killed writer left (parts of an unfinished ensemble, temporary files) is its own
 * and is removed before a resumed writer starts. Files geomstream did not write are never removed.
 */
import { createHash } from 'node:crypto';
import { access, constants, mkdir, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { readTable } from '../formats/tables.js';
import type { Scalar } from '../types.js';
import { writeFileAtomic } from './atomic.js';

/** One of n deterministic slices of a pipeline's ensembles. */
export interface Shard {
  index: number;
  count: number;
}

/** What to do with a dataset already in the folder. */
export const IF_EXISTS = ['resume', 'overwrite', 'error'] as const;
export type IfExists = (typeof IF_EXISTS)[number];

/** File-name pieces of a shard: a suffix for single files, a prefix for parts. */
export function shardNames(shard?: Shard): { suffix: string; part: string } {
  if (!shard || shard.count === 1) return { suffix: '', part: 'part' };
  return { suffix: `.shard-${shard.index}-of-${shard.count}`, part: `part-s${shard.index}-of-${shard.count}` };
}

/** The tag of an ensemble in its part names: the first 12 hex digits of SHA-256 of its id (ids can be long and hold any character). */
export function ensembleTag(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

/** A dataset (pipeline) name must stay inside the results folder: no separators, no '..'. */
export function checkDatasetName(name: string, field = 'name'): string {
  if (typeof name !== 'string' || !name || /[/\\\0]/.test(name) || name === '.' || name === '..') {
    throw new ConfigError(field, name, "a folder name without '/', '\\' or '..'");
  }
  return name;
}

/** A folder name for an ensemble id (path separators and other unsafe characters replaced). */
export function ensembleFolder(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9=,._+-]/g, '_');
  return safe === '.' || safe === '..' || !safe ? `_${safe}` : safe;
}

/**
 * Hidden folder of the per-ensemble pieces of the stream files (metrics.arrows, …). The stream files
 * are joined from them, in ensemble order, when a writer completes; they stay, so that a resumed or
 * extended dataset rebuilds its stream files from them (a stream file is never appended to).
 */
export const SEGMENTS = '.geomstream-segments';
/** The single-file stream outputs, assembled from segments. */
export const STREAM_FILES = ['metrics.arrows', 'metrics.ndjson', 'snapshots.arrows'] as const;
export type StreamFile = (typeof STREAM_FILES)[number];

/** One finished ensemble, as recorded in the manifest. */
export interface EnsembleEntry {
  id: string;
  /** SHA-256 of the canonical JSON of its runs' configurations (what must match to resume). */
  hash: string;
  /** Files holding its rows, relative to the dataset folder. */
  files: string[];
  metric_rows: number;
}

/** The fields of the manifest that this module reads. */
export interface Manifest {
  schema_version: number;
  pipeline: string;
  shard: Shard | null;
  complete: boolean;
  error: string | null;
  /** What a resumed writer must share with this one (compared key by key). */
  identity?: Record<string, unknown>;
  ensembles?: EnsembleEntry[];
  /** Ensemble ids this writer was to write (done or not). */
  expected_ensembles?: string[];
  ensembles_in_pipeline?: number;
  files: string[];
  runs: { total: number; completed: number; diverged: number; failed: number };
  configuration?: Record<string, unknown>;
  updated_at?: string;
}

const MANIFEST = /^manifest(?:\.shard-(\d+)-of-(\d+))?\.json$/;

/** Every manifest in `dir` (none when the folder does not exist), with its shard. */
export async function readManifests(
  dir: string,
): Promise<Array<{ name: string; shard: Shard | null; manifest: Manifest | null; problem: string | null }>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out = [];
  for (const name of names.sort()) {
    const m = MANIFEST.exec(name);
    if (!m) continue;
    const shard = m[1] === undefined ? null : { index: Number(m[1]), count: Number(m[2]) };
    try {
      out.push({
        name,
        shard,
        manifest: JSON.parse(await readFile(join(dir, name), 'utf8')) as Manifest,
        problem: null,
      });
    } catch (e) {
      out.push({ name, shard, manifest: null, problem: (e as Error).message });
    }
  }
  return out;
}

/**
 * Files the manifests in `dir` list as written — every manifest's, or with `shard` only that
 * shard's: geomstream wrote them, whatever their names (an overwrite removes them).
 */
export async function listedFiles(dir: string, shard?: Shard): Promise<Set<string>> {
  const { suffix } = shardNames(shard);
  const out = new Set<string>();
  for (const m of await readManifests(dir)) {
    if (shard && m.name !== `manifest${suffix}.json`) continue;
    for (const f of m.manifest?.files ?? [])
      if (typeof f === 'string' && !f.startsWith('/') && !f.split('/').includes('..')) out.add(f);
  }
  return out;
}

/** A row of runs.parquet as plain values. */
export type RunRow = Record<string, Scalar>;

/** What a writer takes over from the dataset in its folder. */
export interface ResumeState {
  /** Complete ensembles kept as they are (not trained again). */
  kept: EnsembleEntry[];
  /** Their rows of runs.parquet. */
  runRows: RunRow[];
  /** The dataset was complete (its stream files are whole: with nothing to train, they stay as they are). */
  complete: boolean;
  /** Notes for the user: ensembles trained again, and why. */
  warnings: string[];
}

export const EMPTY_STATE: ResumeState = { kept: [], runRows: [], complete: false, warnings: [] };

/** What a writer is asked to write, for `planDataset`. */
export interface PlannedWrite {
  dir: string;
  shard?: Shard;
  ifExists: IfExists;
  /** Compared with the dataset's; any difference refuses a resume. */
  identity: Record<string, unknown>;
  /** This writer's ensembles (id and hash), in order. */
  ensembles: Array<{ id: string; hash: string }>;
  /** The stream files this writer writes (their shard-suffixed names are derived). */
  streams: StreamFile[];
}

const exists = (path: string) =>
  access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
const list = (xs: string[], n = 3) => xs.slice(0, n).join(', ') + (xs.length > n ? `, … (${xs.length} in all)` : '');

/**
 * Decide, reading only, what a writer does with the dataset in its folder: keep which complete
 * ensembles (`resume`), none (`overwrite`, or a fresh folder), or refuse with a ConfigError that
 * says what differs and how to go on. Nothing is written or deleted.
 */
export async function planDataset(w: PlannedWrite): Promise<ResumeState> {
  const { dir, shard, ifExists } = w;
  const sharded = !!shard && shard.count > 1;
  const { suffix } = shardNames(shard);
  const manifests = await readManifests(dir);
  const mine = manifests.find((m) => m.name === `manifest${suffix}.json`);
  const overwrite = `--if-exists overwrite to replace geomstream's files there, or another --out`;

  // Shard layouts do not mix: a glob over the folder would count some runs twice.
  const others = manifests.filter((m) => m !== mine);
  const foreignLayout = others.filter((m) => (sharded ? m.shard?.count !== shard.count : m.shard !== null));
  if (foreignLayout.length && !(ifExists === 'overwrite' && !sharded)) {
    const what = sharded
      ? `${dir} holds ${foreignLayout[0].shard ? `shards of ${foreignLayout[0].shard.count}` : 'an unsharded dataset'} (${list(foreignLayout.map((m) => m.name))}), not shards of ${shard!.count}`
      : `${dir} holds the shards of a --shard run (${list(foreignLayout.map((m) => m.name))})`;
    throw new ConfigError(
      'if-exists',
      ifExists,
      `a folder without another layout of this dataset: ${what}; run the same --shard i/${foreignLayout[0].shard?.count ?? 1} again to resume it, or use --if-exists overwrite without --shard to replace it, or another --out`,
    );
  }
  // The other shards of this layout must be of the same configuration, whatever the mode: their union is the dataset.
  for (const o of others) {
    if (!sharded || !o.manifest) continue;
    const diff = differences(o.manifest.identity ?? {}, w.identity);
    if (diff.length)
      throw new ConfigError(
        'if-exists',
        ifExists,
        `shards of one configuration: ${dir}/${o.name} was written with ${diff.join('; ')}; write every shard with the same options, or use another --out`,
      );
  }

  if (ifExists === 'overwrite') return EMPTY_STATE;
  const leftovers = await ownFiles(dir, shard, false, new Set(w.ensembles.map((e) => e.id)));
  if (ifExists === 'error') {
    if (mine || leftovers.length)
      throw new ConfigError(
        'if-exists',
        'error',
        `a folder without this dataset: ${dir} holds it already (${list(mine ? [mine.name] : leftovers)}); --if-exists resume to complete it, ${overwrite}`,
      );
    return EMPTY_STATE;
  }
  if (!mine) return EMPTY_STATE;
  if (!mine.manifest)
    throw new ConfigError(
      'if-exists',
      'resume',
      `a dataset whose manifest can be read: ${dir}/${mine.name} cannot (${mine.problem}); ${overwrite}`,
    );
  const m = mine.manifest;
  if (!m.identity || !Array.isArray(m.ensembles)) {
    throw new ConfigError(
      'if-exists',
      'resume',
      `a dataset written with resume information: ${dir} was written by an earlier geomstream (no ensembles in ${mine.name}); ${overwrite}`,
    );
  }
  const diff = differences(m.identity, w.identity);
  if (diff.length)
    throw new ConfigError(
      'if-exists',
      'resume',
      `a dataset of the same configuration: ${dir} was written with ${diff.join('; ')}; ${overwrite}`,
    );
  const planned = new Map(w.ensembles.map((e) => [e.id, e.hash]));
  const absent = m.ensembles.filter((e) => !planned.has(e.id)).map((e) => e.id);
  if (absent.length)
    throw new ConfigError(
      'if-exists',
      'resume',
      `a dataset of the same runs: ${dir} holds ensembles this run does not have (${list(absent)}); ${overwrite}`,
    );
  const changed = m.ensembles.filter((e) => planned.get(e.id) !== e.hash).map((e) => e.id);
  if (changed.length)
    throw new ConfigError(
      'if-exists',
      'resume',
      `a dataset of the same runs: the configuration of ensembles ${list(changed)} differs from what ${dir} holds; ${overwrite}`,
    );

  // Keep the ensembles whose files are all there (their stream segments too), and whose runs are in runs.parquet.
  const warnings: string[] = [];
  const kept: EnsembleEntry[] = [];
  for (const e of m.ensembles) {
    const missing: string[] = [];
    for (const f of e.files) if (!(await exists(join(dir, f)))) missing.push(f);
    for (const s of w.streams) {
      const seg = segmentName(s, shard, e.id);
      if (!e.files.includes(seg)) missing.push(seg);
    }
    if (missing.length) warnings.push(`ensemble ${e.id}: ${list(missing, 2)} missing, trained again`);
    else kept.push(e);
  }
  const none = { kept: [], runRows: [], complete: false, warnings };
  if (!kept.length) return none;
  const runsFile = join(dir, `runs${suffix}.parquet`);
  let runRows: RunRow[];
  try {
    runRows = readTable(await readFile(runsFile), 'runs')
      .toArray()
      .map((r) => plainRow(r.toJSON() as Record<string, unknown>));
  } catch (e) {
    warnings.push(`${runsFile} cannot be read (${(e as Error).message}): every ensemble is trained again`);
    return none;
  }
  const withRuns = new Set(runRows.map((r) => r.ensemble_id));
  for (const e of kept.filter((x) => !withRuns.has(x.id)))
    warnings.push(`ensemble ${e.id}: no rows in runs${suffix}.parquet, trained again`);
  const keep = new Set(kept.filter((x) => withRuns.has(x.id)).map((x) => x.id));
  const finals = await Promise.all(w.streams.map((s) => exists(join(dir, streamName(s, suffix)))));
  return {
    kept: kept.filter((x) => keep.has(x.id)),
    runRows: runRows.filter((r) => keep.has(r.ensemble_id as string)),
    complete: m.complete && keep.size === m.ensembles.length && finals.every(Boolean),
    warnings,
  };
}

/** Values as written: BigInt (Int64 columns) as numbers. */
function plainRow(r: Record<string, unknown>): RunRow {
  const out: RunRow = {};
  for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'bigint' ? Number(v) : (v as Scalar);
  return out;
}

/** Keys whose values differ, as "key X there, Y here". */
function differences(there: Record<string, unknown>, here: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(there), ...Object.keys(here)])].sort();
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  return keys
    .filter((k) => JSON.stringify(there[k]) !== JSON.stringify(here[k]))
    .map((k) => `${k} ${show(there[k])} (now ${show(here[k])})`);
}

/** The final name of a stream file of a shard: metrics.shard-0-of-2.arrows. */
export function streamName(s: StreamFile, suffix: string): string {
  const dot = s.indexOf('.');
  return `${s.slice(0, dot)}${suffix}${s.slice(dot)}`;
}

/** The segment of one ensemble's rows of a stream file. */
export function segmentName(s: StreamFile, shard: Shard | undefined, id: string): string {
  return `${SEGMENTS}/${shardNames(shard).part}-${ensembleTag(id)}.${s}`;
}

const PARTS = ['metrics', 'neurons', 'field', 'errors'];
const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A name, or its temporary name while being written (atomic.ts: `.<name>.<pid>.<n>.tmp`). */
const orTemporary = (name: string) => `(?:${name}|\\.${name}\\.\\d+\\.\\d+\\.tmp)`;

/**
 * geomstream's own files of a writer in `dir` (relative paths), temporary files included: exactly
 * the names it writes. `all`: every shard's too, and report.html (what an unsharded overwrite
 * replaces). `ensembles`: the ids whose snapshot folders are this writer's; `listed`: files an
 * earlier writer recorded in its manifest (its snapshot files, say).
 */
export async function ownFiles(
  dir: string,
  shard: Shard | undefined,
  all: boolean,
  ensembles: Set<string>,
  listed: Set<string> = new Set(),
): Promise<string[]> {
  const { suffix, part } = shardNames(shard);
  const sfx = all ? '(?:\\.shard-\\d+-of-\\d+)?' : esc(suffix);
  const names = `(?:runs${sfx}\\.(?:parquet|ndjson)|manifest${sfx}\\.json|metrics${sfx}\\.(?:arrows|ndjson)|snapshots${sfx}\\.arrows${all ? '|report\\.html' : ''})`;
  const top = new RegExp(
    `^(?:${orTemporary(names)}|\\.geomstream-write-test\\.\\d+\\.tmp|\\.\\.geomstream-write-test\\.\\d+\\.tmp\\.\\d+\\.\\d+\\.tmp)$`,
  );
  const prefix = all ? 'part(?:-s\\d+-of-\\d+)?' : esc(part);
  // Parts of a known ensemble (part-<12 hex>-<3 digits>) or numbered in order (part-<5 digits>); segments.
  const partFile = new RegExp(`^${orTemporary(`${prefix}-(?:[0-9a-f]{12}-\\d{3}|\\d{5})\\.parquet`)}$`);
  const segmentFile = new RegExp(
    `^${orTemporary(`${prefix}-[0-9a-f]{12}\\.(?:metrics\\.arrows|metrics\\.ndjson|snapshots\\.arrows)`)}$`,
  );
  const out = new Set<string>();
  const read = async (d: string) => {
    try {
      return await readdir(join(dir, d));
    } catch {
      return [];
    }
  };
  for (const n of await read('.')) if (top.test(n)) out.add(n);
  for (const folder of PARTS) for (const n of await read(folder)) if (partFile.test(n)) out.add(`${folder}/${n}`);
  for (const n of await read(SEGMENTS)) if (segmentFile.test(n)) out.add(`${SEGMENTS}/${n}`);
  for (const f of new Set([...ensembles].map(ensembleFolder))) {
    for (const n of await read(`snapshots/${f}`))
      if (new RegExp(`^${orTemporary('step-\\d{8}\\.safetensors')}$`).test(n)) out.add(`snapshots/${f}/${n}`);
  }
  for (const f of listed) if (await exists(join(dir, f))) out.add(f);
  return [...out];
}

/**
 * Make sure `dir` can be created and written, then remove geomstream's own files there except
 * `keep` (the files of the complete ensembles a resumed writer keeps, and the files it rewrites):
 * with `all`, every shard's. Folders left empty by this are removed; files geomstream did not write
 * are never touched. Throws a ConfigError naming `field` if the folder cannot be written.
 */
export async function prepareResultsDir(
  dir: string,
  field = 'out',
  shard?: Shard,
  options: { keep?: Set<string>; all?: boolean; ensembles?: Set<string>; listed?: Set<string> } = {},
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    const probe = join(dir, `.geomstream-write-test.${process.pid}.tmp`);
    await writeFileAtomic(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    throw new ConfigError(field, dir, `a folder that can be created and written (${(e as Error).message})`);
  }
  const keep = options.keep ?? new Set<string>();
  const all = options.all ?? false;
  const emptied = new Set<string>();
  for (const f of await ownFiles(dir, shard, all, options.ensembles ?? new Set(), options.listed)) {
    if (keep.has(f)) continue;
    await rm(join(dir, f), { force: true });
    const slash = f.lastIndexOf('/');
    if (slash > 0) emptied.add(f.slice(0, slash));
  }
  // Deepest first, so snapshots/<ensemble>/ goes before snapshots/.
  for (const d of [...emptied].sort((a, b) => b.length - a.length)) {
    await rmdir(join(dir, d)).catch(() => undefined);
    const parent = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : null;
    if (parent) await rmdir(join(dir, parent)).catch(() => undefined);
  }
}
