/**
 * One writer per dataset (per shard): a lock file in the results folder, created atomically
 * (O_EXCL) with the writer's host and pid, removed when the writer ends. A second writer stops at
 * once, naming the first; a lock left by a process that no longer runs on this host is taken over,
 * with a warning. (A lock from another host is never taken over: its process cannot be checked.)
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

interface LockInfo { host: string; pid: number; started: string }

/** The lock file of a dataset, or of one shard of it. */
export function lockPath(dir: string, shard?: { index: number; count: number }): string {
  return join(dir, shard && shard.count > 1 ? `.geomstream-shard-${shard.index}-of-${shard.count}.lock` : '.geomstream.lock');
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Take the lock of `dir` (creating the folder); returns the function that releases it. Throws a
 * ConfigError naming the other writer if one holds it; `onWarning` hears of a stale lock taken over.
 */
export function lockResultsDir(dir: string, shard?: { index: number; count: number }, onWarning: (message: string) => void = () => undefined): () => void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ConfigError('out', dir, `a folder that can be created and written (${(e as Error).message})`);
  }
  const path = lockPath(dir, shard);
  const me: LockInfo = { host: hostname(), pid: process.pid, started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return () => {
        try {
          const held = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
          if (held.pid === me.pid && held.host === me.host) rmSync(path, { force: true });
        } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError('out', dir, `a folder that can be written (${(e as Error).message})`);
    }
    let held: LockInfo | null = null;
    try { held = JSON.parse(readFileSync(path, 'utf8')) as LockInfo; } catch { /* being written, or not ours */ }
    if (held && held.host === me.host && !alive(held.pid)) {
      onWarning(`${dir}: taking over the lock of pid ${held.pid} (started ${held.started}), which no longer runs`);
      rmSync(path, { force: true });
      continue;
    }
    throw new ConfigError('out', dir, held
      ? `a folder no other geomstream is writing: ${dir} is being written by pid ${held.pid} on host ${held.host} (since ${held.started}); wait for it, or choose another --out`
      : `a folder no other geomstream is writing: ${dir} has a lock file ${path} that cannot be read`);
  }
  throw new ConfigError('out', dir, `a folder whose lock ${path} can be taken`);
}
