/**
 * Atomic file output: everything is written under a temporary name in the same folder and renamed
 * into place when complete, so a crash (even kill -9) never leaves a half file that a reader
 * (DuckDB, pyarrow, a glob over metrics/) would pick up. Temporary names start with '.' and end
 * with '.tmp', which DuckDB's and pyarrow's dataset globs skip.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** The temporary path used while `path` is being written. */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
}

/**
 * A failed write, naming the file (Node's ENOSPC and EIO messages do not); `code` is kept, so the
 * CLI still tells a failed write (exit 1) from bad input.
 */
export function writeFailure(path: string, e: unknown): Error {
  const cause = e as NodeJS.ErrnoException;
  if (cause?.message?.startsWith(`writing ${path}: `)) return cause;
  const err = new Error(`writing ${path}: ${cause?.message ?? String(e)}`, { cause: e }) as NodeJS.ErrnoException;
  err.code = cause?.code ?? 'EIO';
  return err;
}

/** Write `data` to `path` atomically (temporary file, then rename). Creates the folder. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = temporaryPath(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw writeFailure(path, e);
  }
}

/** An append-only file that appears at its final path only when `close()` succeeds. */
export class AtomicWriteStream {
  private readonly tmp: string;
  private stream: WriteStream | null = null;
  private failure: Error | null = null;

  constructor(readonly path: string) {
    this.tmp = temporaryPath(path);
  }

  private async open(): Promise<WriteStream> {
    if (!this.stream) {
      await mkdir(dirname(this.path), { recursive: true });
      this.stream = createWriteStream(this.tmp);
      this.stream.on('error', (e) => {
        this.failure = writeFailure(this.path, e);
      });
    }
    return this.stream;
  }

  /** Append a chunk; resolves when the stream can take more (so a slow disk slows the producer). */
  async write(chunk: Uint8Array | string): Promise<void> {
    const s = await this.open();
    if (this.failure) throw this.failure;
    if (!s.write(chunk)) {
      // An error instead of 'drain' (a full disk) must not leave the writer waiting forever.
      await new Promise<void>((resolve) => {
        const done = () => {
          s.off('drain', done);
          s.off('error', done);
          resolve();
        };
        s.once('drain', done);
        s.once('error', done);
      });
      if (this.failure) throw this.failure;
    }
  }

  /** Finish the file and move it into place (on failure, the temporary file is removed and the error names the file). */
  async close(): Promise<void> {
    try {
      const s = await this.open();
      await new Promise<void>((resolve, reject) => s.end((e?: Error | null) => (e ? reject(e) : resolve())));
      if (this.failure) throw this.failure;
      await rename(this.tmp, this.path);
    } catch (e) {
      await this.abort();
      throw writeFailure(this.path, e);
    }
  }

  /** Drop the partial file. */
  async abort(): Promise<void> {
    this.stream?.destroy();
    await rm(this.tmp, { force: true });
  }
}
