/** A tiny pipeline for integration tests: 2 alignments × tanh/relu × 2 seeds, a few epochs. */
import { pipe } from 'rxjs';
import { alignedParity, definePipeline, geometry, probe, sweep, train } from '../src/index.js';

export const tinyPipeline = (opts: { lrs?: number[]; name?: string } = {}) =>
  definePipeline({
    name: opts.name ?? 'tiny',
    seed: 3,
    runs: ({ seed }) =>
      sweep({
        seed,
        grid: { alignment: [0, 0.5], activation: ['tanh', 'relu'] as const, lr: opts.lrs ?? [0.2] },
        seeds: 2,
        run: (p, s) => ({
          task: alignedParity({ d: 2, k: 2, alignment: p.alignment, N: 12, sigma: 0.5, seed: s.task }),
          network: { activation: p.activation, width: 8 },
          training: { lr: p.lr, batch: 25, samples: 200, epochs: 3, checkpoints: { steps: [5, 10] } },
        }),
      }),
    process: (ctx) => pipe(train(ctx.train), probe(), geometry({ metrics: ['kernel_alignment'] })),
    summary: { title: 'final', sql: "SELECT count(*) AS n FROM final WHERE metric = 'kernel_alignment'" },
  });
