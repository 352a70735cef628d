/**
 * The single-file streams of a results folder (metrics.arrows, metrics.ndjson, snapshots.arrows),
 * joined from their per-ensemble segments (dataset.ts, SEGMENTS) in run order. The segments stay,
 * so a later resume rebuilds the streams from them; a stream is written under a temporary name and
 * renamed, so a kill during the join leaves the previous one.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { RecordBatchReader, Table } from 'apache-arrow';
import { ArrowStreamFile } from './arrow-ipc.js';
import { AtomicWriteStream } from './atomic.js';
import type { StreamFile } from './dataset.js';

/** A file being written: the sink aborts every open one when a write fails. */
export interface OpenFile {
  abort(): Promise<void>;
}

/**
 * Write `target` from the `sources` in order: NDJSON byte for byte, Arrow batch by batch. `open`
 * holds the output while it is written.
 */
export async function joinSegments(
  dir: string,
  stream: StreamFile,
  target: string,
  sources: string[],
  open: Set<OpenFile>,
): Promise<void> {
  const final = join(dir, target);
  const out = stream.endsWith('.ndjson') ? new AtomicWriteStream(final) : new ArrowStreamFile(final);
  open.add(out);
  for (const src of sources.map((f) => join(dir, f))) {
    if (out instanceof AtomicWriteStream) {
      for await (const chunk of createReadStream(src)) await out.write(chunk as Buffer);
    } else {
      const reader = await RecordBatchReader.from(createReadStream(src));
      for await (const batch of reader) await out.append(new Table(batch));
    }
  }
  await out.close();
  open.delete(out);
}
