/**
 * Helpers for operators on a stream of mixed records: each operator maps the kind it knows and
 * passes the others through unchanged, in order.
 */
import { concatMap, of, type Observable, type OperatorFunction } from 'rxjs';
import type { StreamRecord } from '../types.js';

/** Map records of one kind to zero or more records; everything else passes through. */
export function mapKind<K extends StreamRecord['kind']>(
  kind: K,
  f: (record: Extract<StreamRecord, { kind: K }>) => Observable<StreamRecord> | StreamRecord[],
): OperatorFunction<StreamRecord, StreamRecord> {
  return concatMap((r: StreamRecord) => (r.kind === kind ? f(r as Extract<StreamRecord, { kind: K }>) : of(r)));
}
