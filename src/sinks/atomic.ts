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

/** Write `data` to `path` atomically (temporary file, then rename). Creates the folder. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = temporaryPath(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
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
      this.stream.on('error', (e) => { this.failure = e; });
    }
    return this.stream;
  }

  /** Append a chunk; resolves when the stream can take more (so a slow disk slows the producer). */
  async write(chunk: Uint8Array | string): Promise<void> {
    const s = await this.open();
    if (this.failure) throw this.failure;
    if (!s.write(chunk)) await new Promise<void>((r) => s.once('drain', () => r()));
  }

  /** Finish the file and move it into place. */
  async close(): Promise<void> {
    const s = await this.open();
    await new Promise<void>((resolve, reject) => s.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (this.failure) throw this.failure;
    await rename(this.tmp, this.path);
  }

  /** Drop the partial file. */
  async abort(): Promise<void> {
    this.stream?.destroy();
    await rm(this.tmp, { force: true });
  }
}
