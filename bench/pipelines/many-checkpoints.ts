/**
 * For the backpressure measurement (BENCHMARKS.md, "Backpressure"): an ensemble of 10 small
 * networks, 10^5 training steps, a checkpoint every 10 steps (10^4 checkpoints), four metrics at
 * each (about 10^6 metric rows).
 */
import { pipe } from 'rxjs';
import { alignedParity, definePipeline, geometry, probe, sweep, train } from '../../src/index.js';

export default definePipeline({
  name: 'many-checkpoints',
  seed: 1,
  runs: ({ seed }) =>
    sweep({
      seed,
      grid: { activation: ['tanh'] as const },
      seeds: 10,
      run: (p, s) => ({
        task: alignedParity({ d: 2, k: 1, alignment: 0.5, N: 12, sigma: 0.5, seed: s.task }),
        network: { activation: p.activation, width: 16 },
        training: { lr: 0.05, batch: 10, samples: 1000, epochs: 1000, checkpoints: { every: 10 } },
      }),
    }),
  process: (ctx) =>
    pipe(train(ctx.train), probe(), geometry({ metrics: ['kernel_alignment', 'debiased_cka', 'rsa', 'ps'] })),
});
