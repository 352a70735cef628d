import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { mergeParts, splitEnsemble, splitPays, train, trainRuns } from '../src/operators/train.js';
import { geometry } from '../src/operators/geometry.js';
import { probe } from '../src/operators/probe.js';
import { definePipeline, runPipeline } from '../src/pipeline.js';
import { sweep } from '../src/sources/sweep.js';
import { defer, pipe } from 'rxjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainEvent } from '../src/engine/training.js';
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

/** A checkpoint event of `n` members (indices 0..n−1 of their part) at `step`. */
const checkpoint = (step: number, n: number, final = false): TrainEvent => ({
  type: 'checkpoint',
  step,
  epoch: step / 10,
  final,
  engine: 'kernel',
  members: Array.from({ length: n }, (_, index) => ({
    index,
    loss: step,
    accuracy: 1,
    params: null as never,
    maxParamChange: null,
    stoppedEpoch: null,
  })),
});

describe('mergeParts', () => {
  it('merges parts that end at different times: a part whose networks all diverged drops out', async () => {
    async function* early(): AsyncGenerator<TrainEvent> {
      yield checkpoint(0, 2);
      yield { type: 'diverged', index: 1, step: 3 };
      yield { type: 'diverged', index: 0, step: 4 };
    }
    async function* late(): AsyncGenerator<TrainEvent> {
      yield checkpoint(0, 3);
      yield checkpoint(10, 3);
      yield checkpoint(20, 3, true);
    }
    const out: TrainEvent[] = [];
    for await (const ev of mergeParts(
      [
        [1, 2],
        [3, 4, 5],
      ],
      (part) => (part.length === 2 ? early() : late()),
    ))
      out.push(ev);
    const shape = out.map((e) =>
      e.type === 'diverged'
        ? `d${e.index}@${e.step}`
        : `c${e.step}:${e.members.map((m) => m.index).join('')}${e.final ? '!' : ''}`,
    );
    expect(shape).toEqual(['c0:01234', 'd1@3', 'd0@4', 'c10:234', 'c20:234!']);
  });
  it('a part that fails ends the others at once, and the error comes through', async () => {
    let aborted = false;
    async function* failing(): AsyncGenerator<TrainEvent> {
      yield checkpoint(0, 1);
      throw new Error('worker on fire');
    }
    async function* slow(signal: AbortSignal): AsyncGenerator<TrainEvent> {
      yield checkpoint(0, 1);
      // Would train for an hour: only the abort ends it.
      await new Promise<void>((r) => {
        const t = setTimeout(r, 3_600_000);
        signal.addEventListener('abort', () => {
          aborted = true;
          clearTimeout(t);
          r();
        });
      });
    }
    const started = performance.now();
    const run = async () => {
      for await (const _ of mergeParts([[1], [2]], (part, signal) => (part[0] === 1 ? failing() : slow(signal)))) {
        /* drain */
      }
    };
    await expect(run()).rejects.toThrow('worker on fire');
    expect(aborted).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
  }, 10_000);
  it('splits only when that keeps more workers busy', () => {
    expect(splitPays([10], 2)).toBe(true);
    expect(splitPays([3, 3], 4)).toBe(true);
    expect(splitPays([2, 2, 2], 4)).toBe(false);
    expect(splitPays([5, 5], 2)).toBe(false);
    expect(splitPays([1], 2)).toBe(false);
    expect(splitPays([10], 1)).toBe(false);
    expect(splitPays([], 2)).toBe(false);
  });
});

describe('WorkerPool.train with an abort signal', () => {
  it('ends at once, training or still waiting for a worker, and the pool trains on afterwards', async () => {
    const pool = new WorkerPool(1, undefined, 'kernel');
    try {
      const long = sweepRuns({
        seed: 1,
        grid: { activation: ['tanh'] as const },
        seeds: 2,
        run: (_p, s) => ({
          task: alignedParity({ d: 3, k: 3, alignment: 0.5, N: 20, seed: s.task }),
          network: { activation: 'tanh', width: 16 },
          training: { lr: 0.1, batch: 8, samples: 4000, epochs: 2000, checkpoints: { every: 1_000_000 } },
        }),
      });
      const stop = new AbortController();
      const training = pool.train(long, { signal: stop.signal });
      expect((await training.next()).value).toMatchObject({ type: 'checkpoint', step: 0 });
      // A second job waits for the one worker.
      const waiting = pool.train(long, { signal: stop.signal });
      const waited = waiting.next();
      const pending = training.next();
      const started = performance.now();
      stop.abort();
      expect(await pending).toMatchObject({ done: true });
      expect(await waited).toMatchObject({ done: true });
      expect(performance.now() - started).toBeLessThan(2_000);
      const after = await lastValueFrom(trainRuns(runs(2), { pool }).pipe(toArray()));
      expect(after.filter((r) => r.kind === 'run').map((r) => r.status)).toEqual(['completed', 'completed']);
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('runPipeline splits one grid point over the workers', () => {
  const pipelineWith = (decoding: boolean, seen: { split?: boolean }) =>
    definePipeline({
      name: decoding ? 'one-point-ccgp' : 'one-point',
      runs: () =>
        sweep({
          grid: { activation: ['tanh'] as const },
          seeds: 4,
          run: (_p, s) => ({
            task: alignedParity({ d: 3, k: 3, alignment: 0.5, N: 20, seed: s.task }),
            network: { activation: 'tanh', width: 16 },
            training: { lr: 0.1, batch: 32, samples: 320, epochs: 2, checkpoints: { steps: [] } },
          }),
        }),
      process: (ctx) =>
        pipe(
          // What train decides from, read when the stream starts (after the resume plan).
          (source) =>
            defer(() => {
              seen.split = ctx.train.split;
              return source;
            }),
          train(ctx.train),
          probe(),
          geometry({ pool: ctx.pool, metrics: decoding ? ['kernel_alignment', 'ccgp'] : ['kernel_alignment'] }),
        ),
    });
  it('when the pool fits no decoding metrics; not when it does', async () => {
    const out = mkdtempSync(join(tmpdir(), 'geomstream-split-'));
    try {
      const plain: { split?: boolean } = {};
      const withFits: { split?: boolean } = {};
      const a = await runPipeline(pipelineWith(false, plain), { out, workers: 2 });
      const b = await runPipeline(pipelineWith(true, withFits), { out, workers: 2 });
      expect([a.runs.completed, b.runs.completed]).toEqual([4, 4]);
      expect(plain.split).toBe(true);
      expect(withFits.split).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
