/**
 * A pipeline whose checkpoints arrive slowly (each snapshot held back 150 ms on its way to the
 * metrics), so that a live page can be watched while it runs: 2 alignments × tanh/relu × 2 seeds,
 * 12 checkpoints.
 */
import { concatMap, delay, of, pipe } from 'rxjs';
import { alignedParity, definePipeline, geometry, probe, sweep, train } from '../src/index.js';

export default definePipeline({
  name: 'paced',
  seed: 5,
  runs: ({ seed }) =>
    sweep({
      seed,
      grid: { alignment: [0.2, 0.6], activation: ['tanh', 'relu'] as const },
      seeds: 2,
      run: (p, s) => ({
        task: alignedParity({ d: 2, k: 2, alignment: p.alignment, N: 12, sigma: 0.5, seed: s.task }),
        network: { activation: p.activation, width: 8 },
        training: { lr: 0.2, batch: 25, samples: 200, epochs: 12, checkpoints: { logSpaced: 12 } },
      }),
    }),
  process: (ctx) =>
    pipe(
      train(ctx.train),
      concatMap((r) => (r.kind === 'snapshot' ? of(r).pipe(delay(150)) : of(r))),
      probe(),
      geometry({ metrics: ['kernel_alignment'] }),
    ),
});
