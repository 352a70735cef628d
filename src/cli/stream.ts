/**
 * `--stream -|PATH` for `run` and `analyze`: where the live Arrow IPC stream of metric rows goes.
 * The path is checked when the option is read; the file is opened only once the command's own
 * checks have passed (a rejected command creates nothing).
 */
import { accessSync, constants, createWriteStream, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { ConfigError } from '../errors.js';

export interface StreamTarget {
  /** True for '-': the rows go to stdout, so everything else goes to stderr. */
  stdout: boolean;
  /** Opens the stream (stdout, or the file). */
  open(): Writable;
  /** Ends a file stream (stdout is left open). */
  close(): Promise<void>;
}

/** The stream target of `--stream`, checked now; undefined without the option. */
export function streamTarget(spec: string | undefined): StreamTarget | undefined {
  if (spec === undefined) return undefined;
  if (spec === '-') return { stdout: true, open: () => process.stdout, close: async () => undefined };
  const path = resolve(spec);
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch (e) {
    throw new ConfigError('stream', spec, `'-' or a file in a writable folder (${(e as Error).message})`);
  }
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    /* a new file */
  }
  if (isDir) throw new ConfigError('stream', spec, "'-' or a file name, not a folder");
  let file: Writable | null = null;
  return {
    stdout: false,
    open: () => {
      const w = createWriteStream(path);
      // A write error stops the stream (streamMetrics notes it), never the command.
      w.on('error', (e) => process.stderr.write(`geomstream: --stream ${spec}: ${e.message}\n`));
      return (file = w);
    },
    close: () => new Promise<void>((r) => (file ? file.end(r) : r())),
  };
}
