/**
 * One writer per dataset (per shard): a lock file in the results folder, created atomically
 * (O_EXCL) with the writer's host and pid, removed when the writer ends. A second writer stops at
 * once, naming the first; a lock left by a process that no longer runs on this host is taken over,
 * with a warning. (A lock from another host is never taken over: its process cannot be checked.)
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { ConfigError } from '../errors.js';

interface LockInfo {
  host: string;
  pid: number;
  started: string;
}

/** Lock files this process holds now (a second writer in the same process is refused like any other). */
const heldHere = new Set<string>();

/** The lock file of a dataset, or of one shard of it. */
export function lockPath(dir: string, shard?: { index: number; count: number }): string {
  return join(
    dir,
    shard && shard.count > 1 ? `.geomstream-shard-${shard.index}-of-${shard.count}.lock` : '.geomstream.lock',
  );
}

/** Whether `name` is a lock file of a dataset (the whole, or a shard's). */
export function isLockFile(name: string, which: 'any' | 'shard' = 'any'): boolean {
  return (
    which === 'shard' ? /^\.geomstream-shard-\d+-of-\d+\.lock$/ : /^\.geomstream(-shard-\d+-of-\d+)?\.lock$/
  ).test(name);
}

/** A live lock of the dataset that excludes `mine`: the whole-dataset lock for a shard, any shard's for the whole. */
function conflicting(dir: string, mine: string): (LockInfo & { path: string }) | null {
  const whole = lockPath(dir);
  const names = readdirSync(dir).filter((n) => (mine === whole ? isLockFile(n, 'shard') : n === '.geomstream.lock'));
  for (const n of names) {
    try {
      const info = JSON.parse(readFileSync(join(dir, n), 'utf8')) as LockInfo;
      if (info.host !== hostname() || alive(info.pid)) return { ...info, path: join(dir, n) };
    } catch {
      /* gone, or being written */
    }
  }
  return null;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Who holds the lock of `dir` (or of its shard) now: "pid N on host H", or null (no lock, or a stale one on this host). */
export function lockHolder(dir: string, shard?: { index: number; count: number }): string | null {
  try {
    const info = JSON.parse(readFileSync(lockPath(dir, shard), 'utf8')) as LockInfo;
    if (info.host === hostname() && !alive(info.pid)) return null;
    return `pid ${info.pid} on host ${info.host}`;
  } catch {
    return null;
  }
}

/**
 * Take the lock of `dir` (creating the folder); returns the function that releases it. Throws a
 * ConfigError naming the other writer if one holds it; `onWarning` hears of a stale lock taken over.
 */
export function lockResultsDir(
  dir: string,
  shard?: { index: number; count: number },
  onWarning: (message: string) => void = () => undefined,
): () => void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ConfigError('out', dir, `a folder that can be created and written (${(e as Error).message})`);
  }
  const path = lockPath(dir, shard);
  const me: LockInfo = { host: hostname(), pid: process.pid, started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let created = false;
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new ConfigError('out', dir, `a folder that can be written (${(e as Error).message})`);
    }
    if (created) {
      heldHere.add(path);
      const release = () => {
        process.off('exit', release);
        heldHere.delete(path);
        try {
          const held = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
          if (held.pid === me.pid && held.host === me.host) rmSync(path, { force: true });
        } catch {
          /* already gone */
        }
      };
      // A process that exits (process.exit, the CLI's SIGTERM/SIGINT handler) leaves no lock behind.
      process.on('exit', release);
      // The whole dataset and its shards exclude each other: an unsharded run replaces the shards' files.
      const other = conflicting(dir, path);
      if (other) {
        release();
        throw new ConfigError(
          'out',
          dir,
          `a folder no other geomstream is writing: ${dir} is being written by pid ${other.pid} on host ${other.host} (since ${other.started}, ${basename(other.path)}); wait for it, or choose another --out`,
        );
      }
      return release;
    }
    let held: LockInfo | null = null;
    try {
      held = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    } catch {
      /* being written, or not ours */
    }
    // Our own pid in a lock this process does not hold is a previous incarnation (a container restarted: PID 1 again).
    if (held && held.host === me.host && (!alive(held.pid) || (held.pid === me.pid && !heldHere.has(path)))) {
      onWarning(`${dir}: taking over the lock of pid ${held.pid} (started ${held.started}), which no longer runs`);
      rmSync(path, { force: true });
      continue;
    }
    throw new ConfigError(
      'out',
      dir,
      held
        ? `a folder no other geomstream is writing: ${dir} is being written by pid ${held.pid} on host ${held.host} (since ${held.started}); wait for it, or choose another --out${held.host === me.host ? '' : ` (if that process is gone, delete ${path})`}`
        : `a folder no other geomstream is writing: ${dir} has a lock file ${path} that cannot be read (if no geomstream is writing there, delete it)`,
    );
  }
  throw new ConfigError('out', dir, `a folder whose lock ${path} can be taken`);
}
