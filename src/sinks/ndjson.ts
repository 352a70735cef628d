/**
 * Newline-delimited JSON output: one JSON object per line, appended as records come, the file
 * moved into place when closed. Non-finite numbers (NaN, ±Infinity) are written as null.
 */
import { AtomicWriteStream } from './atomic.js';

export class NdjsonFile {
  private readonly out: AtomicWriteStream;

  constructor(readonly path: string) {
    this.out = new AtomicWriteStream(path);
  }

  async append(rows: Array<Record<string, unknown>>): Promise<void> {
    if (!rows.length) return;
    await this.out.write(
      `${rows
        .map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)))
        .join('\n')}\n`,
    );
  }

  close(): Promise<void> {
    return this.out.close();
  }

  abort(): Promise<void> {
    return this.out.abort();
  }
}
