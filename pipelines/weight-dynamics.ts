/**
 * Weight-space dynamics in the classic setting (docs/science.md §1c, §4): 4 unstructured conditions in
 * 200 dimensions, sigma = 1, target {0, 3} vs {1, 2}; tanh and relu, width 120, lr 0.1, batch 200.
 * Per checkpoint and neuron: the projection of its input weights on the inter-class axis and on
 * the intra-class subspace (neurons/), and the expected-gradient field at initialisation (field/).
 * Tanh's symmetric, positive derivative pushes every neuron along the label axis; ReLU's one-sided
 * derivative lets neurons pick up intra-class components and specialise: at the end, ReLU neurons
 * carry the larger intra-class share |intra| / (|inter| + |intra|).
 */
import { pipe } from 'rxjs';
import {
  definePipeline,
  geometry,
  probe,
  sweep,
  train,
  unstructured,
  weightDynamics,
  type ActivationName,
} from '../src/index.js';

export default definePipeline({
  name: 'weight-dynamics',
  description: 'Classic 4-condition task: per-neuron inter/intra-class projections over training, tanh vs relu',
  seed: 7,
  // --set activations=tanh,relu,gelu --set epochs=300 … (--list-params)
  params: ({ quick }) => ({
    activations: ['tanh', 'relu'],
    seeds: quick ? 2 : 5,
    width: 120,
    lr: 0.1,
    epochs: quick ? 10 : 100,
    samples: quick ? 1000 : 4000,
    checkpoints: quick ? 5 : 15,
  }),
  runs: ({ seed, params }) =>
    sweep({
      seed,
      grid: { activation: params.activations },
      seeds: params.seeds,
      run: (p, seeds) => ({
        task: unstructured({ P: 4, N: 200, sigma: 1, targets: { positive: [0, 3] }, seed: seeds.task }),
        network: { activation: p.activation as ActivationName, width: params.width }, // checked by sweep
        training: {
          lr: params.lr,
          batch: 200,
          samples: params.samples,
          epochs: params.epochs,
          checkpoints: { logSpaced: params.checkpoints },
        },
      }),
    }),
  process: (ctx) =>
    pipe(
      train(ctx.train),
      weightDynamics({ field: { steps: 'first', neurons: [0, 1, 2, 3] } }),
      probe(),
      geometry({ metrics: ['kernel_alignment'] }),
    ),
  summary: {
    title:
      'Final intra-class share |intra| / (|inter| + |intra|) per neuron (mean over neurons and seeds) — relu should exceed tanh',
    sql: `
      WITH last AS (SELECT run_id, max(step) AS step FROM neurons GROUP BY run_id)
      SELECT r.activation,
             round(avg(abs(n.intra) / nullif(abs(n.inter) + abs(n.intra), 0)), 4) AS intra_share,
             round(avg(abs(n.inter)), 4) AS mean_abs_inter,
             round(avg(n.intra), 4) AS mean_intra,
             round(avg(n.n_active), 2) AS mean_active_conditions,
             count(DISTINCT r.run_id) AS runs,
             count(DISTINCT r.run_id) FILTER (WHERE r.converged) AS converged
      FROM neurons n JOIN last USING (run_id, step) JOIN runs r USING (run_id)
      WHERE r.status = 'completed'
      GROUP BY r.activation ORDER BY r.activation`,
  },
});
