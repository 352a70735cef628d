import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { mapKindAsync } from '../src/operators/records.js';
import type { StreamRecord } from '../src/types.js';

/** Stand-in records: only `kind` and an index matter here. */
const rec = (kind: string, i: number) => ({ kind, i }) as unknown as StreamRecord;
const idx = (r: StreamRecord) => (r as unknown as { i: number }).i;

describe('mapKindAsync', () => {
  it('keeps the input order with slow, fast and synchronous results, and a backlog of 20,000 records behind a pending one', async () => {
    const input = [
      rec('representation', 0),
      ...Array.from({ length: 20_000 }, (_, i) => rec('neuron', i + 1)),
      rec('representation', 20_001),
      rec('neuron', 20_002),
      rec('representation', 20_003),
    ];
    const out = await lastValueFrom(
      from(input).pipe(
        mapKindAsync('representation', (r) => {
          const i = idx(r);
          const rows = [rec('metric', i), rec('metric', i + 0.5)];
          if (i === 20_003) return rows; // synchronous, but queued behind the others
          return new Promise((resolve) => setTimeout(() => resolve(rows), i === 0 ? 30 : 1));
        }),
        toArray(),
      ),
    );
    const order = out.map(idx);
    expect(order).toHaveLength(20_000 + 6 + 1);
    expect(order.slice(0, 3)).toEqual([0, 0.5, 1]);
    expect(order.slice(-5)).toEqual([20_001, 20_001.5, 20_002, 20_003, 20_003.5]);
    for (let k = 1; k < order.length; k++) expect(order[k]).toBeGreaterThan(order[k - 1]);
  });

  it('delivers an error in its place: the records before it, then the error', async () => {
    const seen: number[] = [];
    const run = lastValueFrom(
      from([rec('neuron', 1), rec('representation', 2), rec('neuron', 3)]).pipe(
        mapKindAsync('representation', () => Promise.reject(new Error('boom'))),
      ),
      { defaultValue: null },
    );
    const sub = from([rec('neuron', 1), rec('representation', 2), rec('neuron', 3)])
      .pipe(
        mapKindAsync('representation', () => {
          throw new Error('sync boom');
        }),
      )
      .subscribe({ next: (r) => seen.push(idx(r)), error: () => seen.push(-1) });
    await expect(run).rejects.toThrow('boom');
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([1, -1]);
    sub.unsubscribe();
  });
});
