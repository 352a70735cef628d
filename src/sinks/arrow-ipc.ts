/**
 * Arrow IPC stream output (the `.arrows` stream format): record batches appended as they come, so
 * a reader can follow a file being written, and Python reads it with
 * `pyarrow.ipc.open_stream(path).read_all()`. The file appears at its final name when closed.
 */
import { RecordBatchStreamWriter, type Table } from 'apache-arrow';
import { AtomicWriteStream } from './atomic.js';

/** Appends tables (as record batches of one schema) to an Arrow IPC stream file. */
export class ArrowStreamFile {
  private writer: RecordBatchStreamWriter | null = null;
  private pump: Promise<void> | null = null;
  private readonly out: AtomicWriteStream;

  constructor(readonly path: string) {
    this.out = new AtomicWriteStream(path);
  }

  /** Append every batch of `table` (its schema must match the first table's). */
  async append(table: Table): Promise<void> {
    if (!this.writer) {
      const writer = new RecordBatchStreamWriter();
      this.writer = writer;
      // The writer is an async iterable of encoded bytes: move them to the file as they come.
      this.pump = (async () => {
        for await (const chunk of writer) await this.out.write(chunk);
      })();
    }
    for (const batch of table.batches) this.writer.write(batch);
  }

  /** Write the end-of-stream marker and move the file into place. */
  async close(): Promise<void> {
    if (this.writer) {
      this.writer.finish();
      await this.pump;
    }
    await this.out.close();
  }

  async abort(): Promise<void> {
    this.writer?.abort();
    await this.pump?.catch(() => undefined);
    await this.out.abort();
  }
}
