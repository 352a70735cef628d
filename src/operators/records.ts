/**
 * Helpers for operators on a stream of mixed records: each operator maps the kind it knows and
 * passes the others through unchanged, in order.
 */
import { concatMap, of, Observable, type OperatorFunction } from 'rxjs';
import type { StreamRecord } from '../types.js';

/** Map records of one kind to zero or more records; everything else passes through. */
export function mapKind<K extends StreamRecord['kind']>(
  kind: K,
  f: (record: Extract<StreamRecord, { kind: K }>) => Observable<StreamRecord> | StreamRecord[],
): OperatorFunction<StreamRecord, StreamRecord> {
  return concatMap((r: StreamRecord) => (r.kind === kind ? f(r as Extract<StreamRecord, { kind: K }>) : of(r)));
}

/**
 * Like `mapKind`, for a mapping that may be asynchronous: `f` returns the records, or a promise of
 * them. Output keeps the input order: records that arrive while earlier results are pending wait
 * behind them; `f` itself is called as each record arrives, so several results can be computed at
 * once. (concatMap cannot be used here: it drains a backlog of synchronous inner observables by
 * recursion, and thousands of rows queued behind one pending result overflowed the stack.)
 */
export function mapKindAsync<K extends StreamRecord['kind']>(
  kind: K,
  f: (record: Extract<StreamRecord, { kind: K }>) => StreamRecord[] | Promise<StreamRecord[]>,
): OperatorFunction<StreamRecord, StreamRecord> {
  return (source) =>
    new Observable<StreamRecord>((subscriber) => {
      let tail: Promise<void> = Promise.resolve();
      let queued = 0; // results not yet emitted, in order, on `tail`
      let closed = false;
      const emit = (records: StreamRecord[]) => {
        for (const r of records) subscriber.next(r);
      };
      const enqueue = (result: Promise<StreamRecord[]>) => {
        queued++;
        tail = tail
          .then(() => result)
          .then(
            (records) => {
              queued--;
              if (!closed) emit(records);
            },
            (e) => {
              queued--;
              if (!closed) {
                closed = true;
                subscriber.error(e);
              }
            },
          );
      };
      const sub = source.subscribe({
        next(r) {
          let out: StreamRecord[] | Promise<StreamRecord[]>;
          try {
            out = r.kind === kind ? f(r as Extract<StreamRecord, { kind: K }>) : [r];
          } catch (e) {
            out = Promise.reject(e);
          }
          if (queued === 0 && Array.isArray(out)) emit(out);
          else enqueue(Promise.resolve(out));
        },
        error(e) {
          tail = tail.then(() => {
            if (!closed) {
              closed = true;
              subscriber.error(e);
            }
          });
        },
        complete() {
          tail = tail.then(() => {
            if (!closed) {
              closed = true;
              subscriber.complete();
            }
          });
        },
      });
      return () => {
        closed = true;
        sub.unsubscribe();
      };
    });
}
