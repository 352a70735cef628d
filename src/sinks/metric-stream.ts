/**
 * `streamMetrics(out)`: every metric row also goes out as an Arrow IPC stream while the pipeline
 * runs (`--stream -|PATH`), so `pyarrow.ipc.open_stream(sys.stdin.buffer)` reads rows as they are
 * produced. Rows are written in record batches of what arrived together (one event-loop turn),
 * with the metrics table's schema; records of every kind pass through unchanged.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { RecordBatchStreamWriter } from 'apache-arrow';
import type { Writable } from 'node:stream';
import type { MetricRow, StreamRecord } from '../types.js';
import { metricsTable } from './tables.js';

/** Write metric rows to `out` as an Arrow IPC stream; ends the stream (not `out`) when the source completes. */
export function streamMetrics(out: Writable): OperatorFunction<StreamRecord, StreamRecord> {
  return (source) => new Observable<StreamRecord>((subscriber) => {
    const writer = new RecordBatchStreamWriter();
    let pending: MetricRow[] = [];
    let scheduled: NodeJS.Immediate | null = null;
    let broken: Error | null = null;
    const pump = (async () => {
      for await (const chunk of writer) {
        if (broken) continue;
        // Wait for the consumer when it is slower than the pipeline (a pipe's buffer is full).
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', r));
      }
    })().catch((e) => { broken = e as Error; });
    out.on('error', (e) => { broken = e; });
    const flush = () => {
      scheduled = null;
      if (!pending.length) return;
      const rows = pending;
      pending = [];
      for (const b of metricsTable(rows).batches) writer.write(b);
    };
    const sub = source.subscribe({
      next(r) {
        if (r.kind === 'metric') {
          pending.push(r);
          scheduled ??= setImmediate(flush);
        }
        subscriber.next(r);
      },
      error(e) {
        if (scheduled) clearImmediate(scheduled);
        flush();
        writer.finish();
        void pump.finally(() => subscriber.error(e));
      },
      complete() {
        if (scheduled) clearImmediate(scheduled);
        flush();
        writer.finish();
        void pump.finally(() => subscriber.complete());
      },
    });
    return () => { sub.unsubscribe(); if (scheduled) clearImmediate(scheduled); };
  });
}
