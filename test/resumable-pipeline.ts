/**
 * A pipeline for the kill -9 and resume tests: 12 ensembles (3 alignments × tanh/relu × 2 lrs) of
 * 2 seeds, every output kind (metrics, neurons, field), a few seconds in all.
 */
import { pipe } from 'rxjs';
import { alignedParity, definePipeline, geometry, probe, sweep, train, weightDynamics } from '../src/index.js';

export default definePipeline({
  name: 'resumable',
  seed: 5,
  runs: ({ seed, quick }) =>
    sweep({
      seed,
      grid: { alignment: quick ? [0, 0.5] : [0, 0.25, 0.5], activation: ['tanh', 'relu'] as const, lr: [0.2, 0.05] },
      seeds: 2,
      run: (p, s) => ({
        task: alignedParity({ d: 2, k: 1, alignment: p.alignment, N: 12, sigma: 0.5, seed: s.task }),
        network: { activation: p.activation, width: 8 },
        training: { lr: p.lr, batch: 25, samples: 400, epochs: 20, checkpoints: { steps: [8, 40, 96, 320] } },
      }),
    }),
  process: (ctx) =>
    pipe(
      train(ctx.train),
      weightDynamics({ field: { steps: 'first', neurons: [0, 1] } }),
      probe(),
      geometry({ metrics: ['kernel_alignment', 'ps'] }),
    ),
});
