import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { splitEnsemble, trainRuns } from '../src/operators/train.js';
import { WorkerPool } from '../src/parallel/pool.js';
import { sweepRuns } from '../src/sources/sweep.js';
import { alignedParity } from '../src/sources/aligned-parity.js';
import type { StreamRecord } from '../src/types.js';

const runs = (seeds: number, lr = 0.2) =>
  sweepRuns({
    seed: 3,
    grid: { activation: ['tanh'] as const },
    seeds,
    run: (_p, s) => ({
      task: alignedParity({ d: 3, k: 3, alignment: 0.5, N: 20, sigma: 0.5, seed: s.task }),
      network: { activation: 'tanh', width: 16 },
      training: { lr, batch: 32, samples: 320, epochs: 4, checkpoints: { every: 10 } },
    }),
  });

/** The records without wall times, with weights as plain arrays. */
const comparable = (records: StreamRecord[]) =>
  records.map((r) => {
    // The run spec by its id (a worker's copy is rebuilt from plain data).
    if (r.kind === 'run') return { ...r, run: r.run.run_id, wall_time_s: 0 };
    if (r.kind === 'snapshot')
      return {
        ...r,
        run: r.run.run_id,
        params: {
          W: Array.from(r.params.W),
          b1: Array.from(r.params.b1),
          J: Array.from(r.params.J),
          b2: Array.from(r.params.b2),
        },
      };
    return r;
  });

describe('one ensemble over every worker (train split)', () => {
  it('deals an ensemble out in contiguous parts that differ in size by at most one', () => {
    expect(splitEnsemble([1, 2, 3, 4, 5], 2)).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(splitEnsemble([1, 2], 4)).toEqual([[1], [2]]);
    expect(splitEnsemble([1, 2, 3, 4, 5, 6, 7], 3).map((p) => p.length)).toEqual([3, 2, 2]);
  });
  for (const engine of ['kernel', 'tfjs'] as const)
    it(`gives the records of one worker, in the same order (${engine} engine)`, async () => {
      const one = await lastValueFrom(trainRuns(runs(5), { engine }).pipe(toArray()));
      const pool = new WorkerPool(2, undefined, engine);
      try {
        const split = await lastValueFrom(trainRuns(runs(5), { pool, split: true }).pipe(toArray()));
        expect(split.filter((r) => r.kind === 'snapshot')[0]).toMatchObject({ ensemble_size: 5 });
        expect(comparable(split)).toEqual(comparable(one));
      } finally {
        await pool.close();
      }
    }, 120_000);
  it('a part whose networks all diverge ends, with the same diverged steps', async () => {
    const one = await lastValueFrom(trainRuns(runs(4, 1e300), { engine: 'kernel' }).pipe(toArray()));
    const pool = new WorkerPool(2, undefined, 'kernel');
    try {
      const split = await lastValueFrom(trainRuns(runs(4, 1e300), { pool, split: true }).pipe(toArray()));
      expect(comparable(split)).toEqual(comparable(one));
      expect(one.filter((r) => r.kind === 'run').map((r) => r.status)).toEqual([
        'diverged',
        'diverged',
        'diverged',
        'diverged',
      ]);
    } finally {
      await pool.close();
    }
  }, 120_000);
});
