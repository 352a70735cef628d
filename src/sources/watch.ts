/**
 * The file side of the ingestion sources: which files of a path to read, in which order, and —
 * with `watch` — tailing a folder that another program is writing into.
 *
 * A file is taken when it is complete: as soon as its bytes say so (a safetensors file as long as
 * its header declares; a zip, Parquet or Arrow file ending in its trailer; a .npy as long as its
 * shape needs), which is at once for a file renamed into place; otherwise once its size and
 * modification time have not changed for `settle` milliseconds (then a truncated file becomes an
 * error row). Each path is taken once. Names starting with '.' or ending in .tmp, .part,
 * .partial or .crdownload are never taken (writers' temporary names). A watched folder that does
 * not exist yet is waited for (the trainer may create it after the watcher starts).
 */
import { existsSync, openSync, readSync, closeSync, readdirSync, statSync, type Stats } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { ConfigError, requireNumber } from '../errors.js';
import { safetensorsHeader, SAFETENSORS_MAX_HEADER_BYTES } from '../formats/safetensors.js';
import { readNpy } from '../formats/npy.js';

export interface WatchOptions {
  /** Tail the folder: take new files as they appear, until stopped (default false: read what is there, then end). */
  watch?: boolean;
  /** With `watch`: end after this many seconds without a new file (default: never; a signal or SIGINT ends it). */
  idleExit?: number;
  /** Milliseconds a file's size must stay unchanged before an incomplete-looking file is taken anyway. Default 1000. */
  settle?: number;
  /** Milliseconds between two looks at the folder. Default 100. */
  poll?: number;
  /** Ends the stream (after the file being read) when aborted; the CLI aborts it on SIGINT and SIGTERM. */
  signal?: AbortSignal;
  /** Called for each file read successfully: its path, step and modification time (for progress and lag). */
  onFile?: (file: { path: string; step: number; mtimeMs: number }) => void;
}

export const WATCH_DEFAULTS = { settle: 1000, poll: 100 } as const;

const TEMPORARY = /^\.|\.(tmp|part|partial|crdownload)$/i;

/** A file found under the source path: its path and the subfolder it is in (null at the top). */
export interface FoundFile {
  path: string;
  group: string | null;
}

/** Validate the watch options (before anything is read). */
export function watchOptions(
  o: WatchOptions,
): Required<Omit<WatchOptions, 'signal' | 'idleExit' | 'onFile'>> & Pick<WatchOptions, 'signal' | 'idleExit'> {
  if (o.watch !== undefined && typeof o.watch !== 'boolean') throw new ConfigError('watch', o.watch, 'true or false');
  if (!o.watch) {
    for (const k of ['idleExit', 'settle', 'poll'] as const) {
      if (o[k] !== undefined)
        throw new ConfigError(k, o[k], `no value without watch (${k} applies to a watched folder)`);
    }
  }
  return {
    watch: o.watch ?? false,
    idleExit: o.idleExit === undefined ? undefined : requireNumber('idleExit', o.idleExit, { min: 0 }),
    settle: requireNumber('settle', o.settle ?? WATCH_DEFAULTS.settle, { min: 0 }),
    poll: requireNumber('poll', o.poll ?? WATCH_DEFAULTS.poll, { min: 1 }),
    signal: o.signal,
  };
}

/**
 * The candidate files of `path`: the file itself, or the files of the folder and of its direct
 * subfolders (each subfolder a group: one run or ensemble), whose names `accept` takes.
 */
export function listFiles(
  path: string,
  accept: (name: string) => boolean,
  field = 'path',
  skip: (path: string) => boolean = () => false,
): FoundFile[] {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ConfigError(field, path, `an existing file or folder (${(e as Error).message})`);
  }
  if (st.isFile()) return accept(basename(path)) && !skip(path) ? [{ path, group: null }] : [];
  const out: FoundFile[] = [];
  for (const name of readdirSync(path).sort()) {
    if (TEMPORARY.test(name)) continue;
    const p = join(path, name);
    // Files already taken are not looked at again (a watched folder of 10^4 checkpoints is listed every poll).
    if (skip(p)) continue;
    let s: Stats;
    try {
      s = statSync(p);
    } catch {
      continue;
    } // deleted meanwhile
    if (s.isFile() && accept(name)) out.push({ path: p, group: null });
    else if (s.isDirectory()) {
      let inner: string[] = [];
      try {
        inner = readdirSync(p).sort();
      } catch {
        continue;
      }
      for (const f of inner) {
        const q = join(p, f);
        if (TEMPORARY.test(f) || !accept(f) || skip(q)) continue;
        try {
          if (statSync(q).isFile()) out.push({ path: q, group: name });
        } catch {
          /* deleted meanwhile */
        }
      }
    }
  }
  return out;
}

/**
 * The step in a file's name: the integer after 'step' when there is one ('net_h128_step250' → 250),
 * else the first integer ('ckpt-1200.safetensors' → 1200), else null.
 */
export function stepFromName(path: string): number | null {
  const name = basename(path);
  const m = /step[-_]?(\d+)/i.exec(name) ?? /(\d+)/.exec(name);
  return m ? Number(m[1]) : null;
}

/** The first `n` bytes of a file (fewer if it is shorter). */
export function readHead(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = readSync(fd, buf, got, n - got, got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

const ascii = (b: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...b.subarray(Math.max(0, from), Math.max(0, to)));

/**
 * Whether a file's bytes look complete for its format, from its size and trailer (not a decode of
 * its data): see the module comment. Unknown formats: false (the settle time decides).
 */
export function looksComplete(name: string, bytes: Uint8Array): boolean {
  const n = bytes.length;
  const lower = name.toLowerCase();
  if (lower.endsWith('.safetensors')) {
    try {
      const h = safetensorsHeader(bytes);
      return h !== null && 8 + h.headerLength + h.dataLength === n;
    } catch {
      return false;
    }
  }
  if (lower.endsWith('.npz')) {
    // End of central directory record, 22 bytes, at the very end (numpy writes no zip comment).
    return (
      n >= 22 && bytes[n - 22] === 0x50 && bytes[n - 21] === 0x4b && bytes[n - 20] === 0x05 && bytes[n - 19] === 0x06
    );
  }
  if (lower.endsWith('.parquet')) return n >= 12 && ascii(bytes, 0, 4) === 'PAR1' && ascii(bytes, n - 4, n) === 'PAR1';
  if (lower.endsWith('.arrow') || lower.endsWith('.feather'))
    return n >= 12 && ascii(bytes, 0, 6) === 'ARROW1' && ascii(bytes, n - 6, n) === 'ARROW1';
  if (lower.endsWith('.arrows')) {
    // The end-of-stream marker: continuation 0xFFFFFFFF then a zero length.
    return (
      n >= 8 &&
      bytes[n - 8] === 0xff &&
      bytes[n - 7] === 0xff &&
      bytes[n - 6] === 0xff &&
      bytes[n - 5] === 0xff &&
      bytes[n - 4] === 0 &&
      bytes[n - 3] === 0 &&
      bytes[n - 2] === 0 &&
      bytes[n - 1] === 0
    );
  }
  if (lower.endsWith('.npy')) {
    try {
      readNpy(bytes); // activation arrays are small; the reader checks the length against the shape
      return true;
    } catch {
      return false;
    }
  }
  return false;
}

/** A file as the watcher hands it over: its bytes, or the error reading it. */
export type ReadyFile = FoundFile & { mtimeMs: number } & (
    | { bytes: Uint8Array; error?: undefined }
    | { bytes?: undefined; error: string }
  );

function readWhole(path: string): { bytes: Uint8Array } | { error: string } {
  try {
    return { bytes: readHead(path, statSync(path).size) };
  } catch (e) {
    return { error: `cannot read the file (${(e as Error).message})` };
  }
}

/**
 * A safetensors file's header, read from its first bytes only: the header length its first 8 bytes
 * give, and the header when all of it is there (null while it is still being written, or when the
 * length is over the cap). Throws for a malformed header.
 */
export function safetensorsHeadOf(path: string): {
  headerLength: bigint;
  header: ReturnType<typeof safetensorsHeader>;
} {
  const head = readHead(path, 8);
  if (head.length < 8) return { headerLength: -1n, header: null };
  const headerLength = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) return { headerLength, header: null };
  return { headerLength, header: safetensorsHeader(readHead(path, 8 + Number(headerLength))) };
}

/**
 * For a safetensors file of `size` bytes: the total length its header declares when the file is
 * shorter (it is still being written), else null. Reads the header only, not the data.
 */
function stillBeingWritten(path: string, size: number): { declared: number | null } | null {
  if (!path.toLowerCase().endsWith('.safetensors')) return null;
  try {
    const { headerLength, header } = safetensorsHeadOf(path);
    if (headerLength < 0n || headerLength > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) return null;
    if (!header) return 8n + headerLength > BigInt(size) ? { declared: null } : null;
    const total = 8 + header.headerLength + header.dataLength;
    return total > size ? { declared: total } : null;
  } catch {
    return null; // malformed: the parser says so once the file is taken
  }
}

/** The subfolder (group) of a file under the watched path. */
const groupOf = (root: string, file: string): string | null => {
  const rel = relative(root, file).split(sep);
  return rel.length > 1 ? rel[0] : null;
};

const mtimeOf = (path: string) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return NaN;
  }
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * The options with a signal that also fires when the subscriber goes away (so an abandoned source
 * stops polling), and the function that fires it.
 */
export function withTeardown<O extends WatchOptions>(o: O): { options: O; teardown: () => void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  if (o.signal?.aborted) stop();
  o.signal?.addEventListener('abort', stop, { once: true });
  return {
    options: { ...o, signal: controller.signal },
    teardown: () => {
      o.signal?.removeEventListener('abort', stop);
      stop();
    },
  };
}

/** How a file source ended (the manifest's `stopped`). */
export interface StopInfo {
  reason: string;
}

/**
 * The files of `path` as they become ready, each once. Without `watch`: every file there, in the
 * order `order` gives (e.g. by step), then the end. With `watch`: new files as they complete, in
 * `order` within each look, until the signal aborts or `idleExit` seconds pass without a new file.
 * `stop.reason` says which.
 */
export async function* readyFiles(
  path: string,
  accept: (name: string) => boolean,
  o: WatchOptions,
  order: <F extends FoundFile>(files: F[]) => F[],
  stop: StopInfo = { reason: '' },
): AsyncGenerator<ReadyFile> {
  const opts = watchOptions(o);
  if (!opts.watch) {
    for (const f of order(listFiles(path, accept))) {
      if (opts.signal?.aborted) {
        stop.reason = 'signal';
        return;
      }
      yield { ...f, mtimeMs: mtimeOf(f.path), ...readWhole(f.path) } as ReadyFile;
    }
    stop.reason = 'end of input';
    return;
  }
  const taken = new Set<string>();
  const pending = new Map<string, { size: number; mtime: number; since: number }>();
  let lastNew = performance.now();
  // At the end, files still incomplete are error rows (their writer stopped, or was too slow).
  const leftovers = function* (): Generator<ReadyFile> {
    for (const [p, info] of pending) {
      const declared = stillBeingWritten(p, info.size)?.declared;
      yield {
        path: p,
        group: groupOf(path, p),
        mtimeMs: info.mtime,
        error: `incomplete when the watch stopped (${info.size} bytes${declared ? ` of the ${declared} its header declares` : ''})`,
      };
    }
  };
  for (;;) {
    if (opts.signal?.aborted) {
      stop.reason = 'signal';
      yield* leftovers();
      return;
    }
    const now = performance.now();
    let changed = false;
    const ready: ReadyFile[] = [];
    // A folder the writer has not created yet is an empty one.
    const found = existsSync(path) ? listFiles(path, accept, 'path', (p) => taken.has(p)) : [];
    // A file that went away before it settled was a temporary: forget it.
    const listed = new Set(found.map((f) => f.path));
    for (const p of pending.keys()) if (!listed.has(p)) pending.delete(p);
    for (const f of found) {
      let st: Stats;
      try {
        st = statSync(f.path);
      } catch {
        pending.delete(f.path);
        continue;
      }
      const seen = pending.get(f.path);
      const stable = seen && seen.size === st.size && seen.mtime === st.mtimeMs;
      if (!stable) {
        pending.set(f.path, { size: st.size, mtime: st.mtimeMs, since: now });
        changed = true;
      }
      // A safetensors file shorter than its header declares is still being written: it waits
      // however long its writer pauses (and is an error row only if the watch stops first), and
      // only its header is read meanwhile.
      if (stillBeingWritten(f.path, st.size)) continue;
      const settled = stable && now - seen.since >= opts.settle;
      // Unchanged since the last look, and not settled yet: its bytes cannot have become complete.
      if (stable && !settled) continue;
      const read = readWhole(f.path);
      if ('error' in read) {
        // Gone between the listing and the read: an error row only if it had settled (else it was a temporary).
        if (settled) {
          taken.add(f.path);
          pending.delete(f.path);
          ready.push({ ...f, mtimeMs: st.mtimeMs, ...read });
        }
        continue;
      }
      if (looksComplete(f.path, read.bytes) || settled) {
        taken.add(f.path);
        pending.delete(f.path);
        ready.push({ ...f, mtimeMs: st.mtimeMs, bytes: read.bytes });
      }
    }
    for (const f of order(ready)) yield f as ReadyFile;
    // Idle time counts from when the consumer is done with the last files, and the folder is
    // listed once more (the `found` of the next turn) before the watcher stops.
    if (ready.length || changed) lastNew = performance.now();
    else if (opts.idleExit !== undefined && performance.now() - lastNew >= opts.idleExit * 1000) {
      stop.reason = `idle for ${opts.idleExit} s`;
      yield* leftovers();
      return;
    }
    await sleep(opts.poll, opts.signal);
  }
}
