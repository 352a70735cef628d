/**
 * The separability × noise sweep of docs/science.md §1b: four conditions from two ±1 variables with
 * means a·m1 + b·m2 + eps·(a·b)·m3, target XOR(a, b); eps = 0 is a pure XOR, eps > 0 makes it
 * linearly separable along m3. Tanh vs relu (H = 120, lr 0.1, batch 200), trained to the paper's
 * length (5000 epochs) with the early stop scaled to this learning rate (largest parameter change
 * over an epoch ≤ 0.01·lr = 1e-3, the paper's 1e-5 at lr 1e-3). Per cell: the kernel alignment and
 * the PS of the target, and the decodability from the hidden layer of the target and of the
 * variables a and b it was not trained to output (the paper's Figure 3).
 *
 *   --quick: a smoke test; --set epochs=600: a medium run for smaller machines.
 */
import { pipe } from 'rxjs';
import { definePipeline, geometry, probe, separableXor, sweep, train, type ActivationName } from '../src/index.js';

const steps = (n: number) => Array.from({ length: n }, (_, i) => Number((i / (n - 1)).toFixed(4)));

export default definePipeline({
  name: 'separable-xor',
  description: 'Separable XOR: eps × sigma grid, tanh vs relu; decodability, alignment and PS per cell',
  seed: 5,
  // --set eps=0,0.5,1 --set epochs=600 … (--list-params)
  params: ({ quick }) => ({
    eps: quick ? [0, 1] : steps(21), // docs/science.md 1b default: 21 steps from 0 to 1
    sigma: quick ? [0.1] : [0, 0.1, 0.2, 0.3],
    activations: ['tanh', 'relu'],
    seeds: quick ? 1 : 5,
    width: 120,
    lr: 0.1,
    epochs: quick ? 5 : 5000,
    // Early stop: max |Δθ| over an epoch ≤ this (0.01·lr).
    stop: 1e-3,
    samples: quick ? 400 : 2000,
    checkpoints: quick ? 3 : 12,
  }),
  runs: ({ seed, params }) =>
    sweep({
      seed,
      grid: { eps: params.eps, sigma: params.sigma, activation: params.activations },
      seeds: params.seeds,
      run: (p, seeds) => ({
        task: separableXor({ N: 120, eps: p.eps, sigma: p.sigma, seed: seeds.task }),
        network: { activation: p.activation as ActivationName, width: params.width }, // checked by sweep
        training: {
          lr: params.lr,
          batch: 200,
          samples: params.samples,
          epochs: params.epochs,
          checkpoints: { logSpaced: params.checkpoints },
          stop: { maxParamChange: params.stop },
        },
      }),
    }),
  process: (ctx) =>
    pipe(
      train(ctx.train),
      probe({ samplesPerCondition: 25 }),
      geometry({
        metrics: [
          'kernel_alignment',
          'ps',
          { name: 'decodability', classifier: 'ridge', steps: 'final' }, // the target, XOR(a, b)
          { name: 'decodability', classifier: 'ridge', dichotomies: 'latents', steps: 'final' }, // a and b
        ],
        pool: ctx.pool,
      }),
    ),
  summary: {
    title:
      'Final target alignment, PS, decodability of XOR and of a, b per (eps, sigma), mean over seeds; early stops and the median epochs trained',
    sql: `
      SELECT r.eps, r.sigma,
             round(avg(f.value) FILTER (WHERE r.activation = 'tanh' AND f.metric = 'kernel_alignment' AND f.against = 'target'), 3) AS tanh_target,
             round(avg(f.value) FILTER (WHERE r.activation = 'relu' AND f.metric = 'kernel_alignment' AND f.against = 'target'), 3) AS relu_target,
             round(avg(f.value) FILTER (WHERE r.activation = 'tanh' AND f.metric = 'ps'), 3) AS tanh_ps,
             round(avg(f.value) FILTER (WHERE r.activation = 'relu' AND f.metric = 'ps'), 3) AS relu_ps,
             round(avg(f.value) FILTER (WHERE r.activation = 'tanh' AND f.metric = 'decodability' AND f.dichotomy = 'target0'), 3) AS tanh_decode,
             round(avg(f.value) FILTER (WHERE r.activation = 'relu' AND f.metric = 'decodability' AND f.dichotomy = 'target0'), 3) AS relu_decode,
             round(avg(f.value) FILTER (WHERE r.activation = 'tanh' AND f.metric = 'decodability' AND f.dichotomy LIKE 'latent%'), 3) AS tanh_decode_ab,
             round(avg(f.value) FILTER (WHERE r.activation = 'relu' AND f.metric = 'decodability' AND f.dichotomy LIKE 'latent%'), 3) AS relu_decode_ab,
             count(DISTINCT r.run_id) FILTER (WHERE r.stop_epoch IS NOT NULL) AS stopped,
             count(DISTINCT r.run_id) FILTER (WHERE r.converged) AS converged,
             round(median(coalesce(r.stop_epoch, r.epochs)), 0) AS median_epochs
      FROM final f JOIN runs r USING (run_id)
      WHERE f.scope = 'run' AND r.status = 'completed'
      GROUP BY r.eps, r.sigma ORDER BY r.sigma, r.eps`,
  },
});
