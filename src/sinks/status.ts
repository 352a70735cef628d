/**
 * `geomstream status <dir>`: what a results folder holds, per writer (one, or each shard of an
 * array job): ensembles done of those expected, runs completed / diverged / failed, whether it is
 * being written (a live lock) or was interrupted, and whether the whole dataset is complete.
 */
import { ConfigError } from '../errors.js';
import { readManifests, type Shard } from './dataset.js';
import { readdir } from 'node:fs/promises';
import { isLockFile, lockHolder } from './lock.js';

/** One writer's part of the dataset. */
export interface WriterStatus {
  shard: Shard | null;
  /** 'complete', 'running' (a live lock), 'interrupted', 'failed' (the writer stopped with an error) or 'missing' (no manifest). */
  state: 'complete' | 'running' | 'interrupted' | 'failed' | 'missing';
  /** Null for a dataset without ensembles (analyze's). */
  ensembles: { done: number; expected: number | null } | null;
  runs: { total: number; completed: number; diverged: number; failed: number };
  error: string | null;
  /** The writer holding the lock, when running. */
  writer: string | null;
}

export interface DatasetStatus {
  dir: string;
  pipeline: string | null;
  writers: WriterStatus[];
  /** Every writer complete. */
  complete: boolean;
  /** Runs that failed, over all writers. */
  failedRuns: number;
}

/** The status of the dataset in `dir`; a ConfigError when it holds none. */
export async function datasetStatus(dir: string): Promise<DatasetStatus> {
  const manifests = await readManifests(dir);
  if (!manifests.length) {
    // A writer killed before its first manifest leaves its lock: a dataset begun, not complete.
    const lock = await readdir(dir).then(
      (ns) => ns.find((n) => isLockFile(n)),
      () => undefined,
    );
    if (!lock)
      throw new ConfigError('dir', dir, 'a results folder written by geomstream run (it has no manifest.json)');
    const none = { total: 0, completed: 0, diverged: 0, failed: 0 };
    return {
      dir,
      pipeline: null,
      complete: false,
      failedRuns: 0,
      writers: [
        {
          shard: null,
          state: lockHolder(dir) ? 'running' : 'interrupted',
          ensembles: { done: 0, expected: null },
          runs: none,
          error: null,
          writer: lockHolder(dir),
        },
      ],
    };
  }
  const writers: WriterStatus[] = [];
  const counts = new Set(manifests.map((m) => m.shard?.count ?? 1));
  for (const m of manifests) {
    const man = m.manifest;
    const writer = lockHolder(dir, m.shard ?? undefined);
    const runs = man?.runs ?? { total: 0, completed: 0, diverged: 0, failed: 0 };
    writers.push({
      shard: m.shard,
      state: man?.complete ? 'complete' : writer ? 'running' : man?.error ? 'failed' : 'interrupted',
      ensembles: man?.ensembles
        ? { done: man.ensembles.length, expected: man.expected_ensembles?.length ?? null }
        : null,
      runs,
      error: man?.error ?? (m.problem ? `manifest unreadable: ${m.problem}` : null),
      writer,
    });
  }
  // The shards of an array job that never wrote a manifest.
  for (const n of counts) {
    if (n === 1) continue;
    for (let i = 0; i < n; i++) {
      if (!writers.some((w) => w.shard?.index === i && w.shard.count === n)) {
        writers.push({
          shard: { index: i, count: n },
          state: 'missing',
          ensembles: { done: 0, expected: null },
          runs: { total: 0, completed: 0, diverged: 0, failed: 0 },
          error: null,
          writer: lockHolder(dir, { index: i, count: n }),
        });
      }
    }
  }
  writers.sort(
    (a, b) => (a.shard?.count ?? 0) - (b.shard?.count ?? 0) || (a.shard?.index ?? 0) - (b.shard?.index ?? 0),
  );
  return {
    dir,
    pipeline: manifests.find((m) => m.manifest)?.manifest?.pipeline ?? null,
    writers,
    complete: counts.size === 1 && writers.every((w) => w.state === 'complete'),
    failedRuns: writers.reduce((n, w) => n + w.runs.failed, 0),
  };
}

/** The status as lines of text. */
export function formatStatus(s: DatasetStatus): string {
  const lines = [`${s.dir}: ${s.pipeline ?? '?'}`];
  for (const w of s.writers) {
    const who = w.shard && w.shard.count > 1 ? `shard ${w.shard.index}/${w.shard.count}` : 'dataset';
    const ens = w.ensembles
      ? `${w.ensembles.done}${w.ensembles.expected === null ? '' : `/${w.ensembles.expected}`} ensembles, `
      : '';
    const runs = `${w.runs.total} runs (${w.runs.completed} completed, ${w.runs.diverged} diverged, ${w.runs.failed} failed)`;
    const state =
      w.state === 'running'
        ? `running (${w.writer})`
        : w.state === 'failed'
          ? `failed: ${w.error}`
          : w.state === 'missing'
            ? 'not started (no manifest)'
            : w.state;
    lines.push(`  ${who}: ${state}${w.state === 'missing' ? '' : `; ${ens}${runs}`}`);
  }
  lines.push(s.complete ? `complete${s.failedRuns ? `, with ${s.failedRuns} failed runs` : ''}` : 'not complete');
  return lines.join('\n');
}
