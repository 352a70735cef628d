/**
 * `streamMetrics(out)`: every metric row also goes out as an Arrow IPC stream while the pipeline
 * runs (`--stream -|PATH`), so `pyarrow.ipc.open_stream(sys.stdin.buffer)` reads rows as they are
 * produced. Rows are written in record batches of what arrived together (one event-loop turn),
 * with the metrics table's schema (sent first, so a stream with no rows is still a valid one);
 * records of every kind pass through unchanged. A consumer that goes away (EPIPE) or a write
 * error stops the stream's output, never the pipeline or its files. With a `flow`, training waits
 * while the consumer's pipe is full (src/flow.ts), so a slow reader does not make memory grow.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { RecordBatchStreamWriter } from 'apache-arrow';
import type { Writable } from 'node:stream';
import type { MetricRow, StreamRecord } from '../types.js';
import { metricsTable } from './tables.js';
import type { Flow } from '../flow.js';

/** Write metric rows to `out` as an Arrow IPC stream; ends the Arrow stream (not `out`) when the source completes. */
export function streamMetrics(
  out: Writable,
  options: { flow?: Flow } = {},
): OperatorFunction<StreamRecord, StreamRecord> {
  const { flow } = options;
  return (source) =>
    new Observable<StreamRecord>((subscriber) => {
      const writer = new RecordBatchStreamWriter();
      let pending: MetricRow[] = [];
      let scheduled: NodeJS.Immediate | null = null;
      let broken = false;
      let finished = false;
      const onError = () => {
        broken = true;
      };
      out.on('error', onError);
      // Wait for a slow consumer (a full pipe), but not for one that is gone.
      const writable = () =>
        new Promise<void>((resolve) => {
          const done = () => {
            out.off('drain', done);
            out.off('close', done);
            out.off('error', done);
            resolve();
          };
          out.once('drain', done);
          out.once('close', done);
          out.once('error', done);
        });
      const pump = (async () => {
        for await (const chunk of writer) {
          if (broken || out.destroyed) {
            broken = true;
            continue;
          }
          if (!out.write(chunk)) {
            // A full pipe: hold the whole flow until it drains.
            const n = flow ? flow.limit + 1 : 0;
            flow?.hold(n);
            try {
              await writable();
            } finally {
              flow?.release(n);
            }
          }
        }
      })().catch(() => {
        broken = true;
      });
      // The schema message first: an empty table of the metrics schema.
      writer.reset(undefined, metricsTable([]).schema);
      const flush = () => {
        scheduled = null;
        if (!pending.length) return;
        const rows = pending;
        pending = [];
        for (const b of metricsTable(rows).batches) writer.write(b);
      };
      const finish = () => {
        if (finished) return pump;
        finished = true;
        if (scheduled) clearImmediate(scheduled);
        flush();
        writer.finish();
        return pump.finally(() => out.off('error', onError));
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
          void finish().then(() => subscriber.error(e));
        },
        complete() {
          void finish().then(() => subscriber.complete());
        },
      });
      return () => {
        sub.unsubscribe();
        void finish();
      };
    });
}
