/**
 * Which property of the nonlinearity makes the difference? The classic 4-condition task (as in
 * pipelines/weight-dynamics.ts) across the activation family: bounded relu (saturation on one
 * side), shifted relu (where the kink sits), leaky relu (how one-sided the derivative is),
 * softplus (a smooth kink), hard tanh, sigmoid, gelu, elu, identity. One table: input and target
 * kernel alignment and the neurons' intra-class share per activation, so the roles of symmetric
 * saturation and of the behaviour at the origin can be read off together.
 */
import { pipe } from 'rxjs';
import {
  ConfigError,
  definePipeline,
  geometry,
  probe,
  sweep,
  train,
  unstructured,
  weightDynamics,
  type ActivationSpec,
} from '../src/index.js';

/** Grid labels → activation specs (grid values must be plain scalars). */
const ACTIVATIONS: Record<string, ActivationSpec> = {
  tanh: 'tanh',
  'hard-tanh': 'hard-tanh',
  sigmoid: 'sigmoid',
  relu: 'relu',
  'bounded-relu(u=0.5)': { name: 'bounded-relu', u: 0.5 },
  'bounded-relu(u=2)': { name: 'bounded-relu', u: 2 },
  'shifted-relu(s=-0.5)': { name: 'shifted-relu', s: -0.5 },
  'shifted-relu(s=0.5)': { name: 'shifted-relu', s: 0.5 },
  'leaky-relu(slope=0.1)': { name: 'leaky-relu', slope: 0.1 },
  'leaky-relu(slope=0.5)': { name: 'leaky-relu', slope: 0.5 },
  'softplus(beta=1)': { name: 'softplus', beta: 1 },
  'softplus(beta=5)': { name: 'softplus', beta: 5 },
  gelu: 'gelu',
  elu: 'elu',
  identity: 'identity',
};

export default definePipeline({
  name: 'nonlinearity-dissection',
  description: 'Classic 4-condition task across the activation family: alignment and intra-class share per activation',
  seed: 11,
  // --set activations=tanh,relu --set epochs=200 … (--list-params); the names are the keys of ACTIVATIONS above.
  params: ({ quick }) => ({
    activations: quick ? ['tanh', 'relu', 'bounded-relu(u=0.5)'] : Object.keys(ACTIVATIONS),
    seeds: quick ? 1 : 3,
    width: 120,
    lr: 0.1,
    epochs: quick ? 5 : 60,
    samples: quick ? 800 : 4000,
    checkpoints: quick ? 3 : 8,
  }),
  runs: ({ seed, params }) =>
    sweep({
      seed,
      grid: {
        activation: params.activations.map((name) => {
          if (!Object.hasOwn(ACTIVATIONS, name))
            throw new ConfigError('set activations', name, Object.keys(ACTIVATIONS).join(', '));
          return name;
        }),
      },
      seeds: params.seeds,
      run: (p, seeds) => ({
        task: unstructured({ P: 4, N: 200, sigma: 1, targets: { positive: [0, 3] }, seed: seeds.task }),
        network: { activation: ACTIVATIONS[p.activation], width: params.width },
        training: {
          lr: params.lr,
          batch: 200,
          samples: params.samples,
          epochs: params.epochs,
          checkpoints: { logSpaced: params.checkpoints },
        },
      }),
    }),
  process: (ctx) => pipe(train(ctx.train), weightDynamics(), probe(), geometry({ metrics: ['kernel_alignment'] })),
  summary: {
    title: 'Per activation, at the end of training (mean over seeds)',
    sql: `
      WITH n AS (
        SELECT n.run_id, avg(abs(n.intra) / nullif(abs(n.inter) + abs(n.intra), 0)) AS intra_share, avg(n.n_active) AS active
        FROM neurons n JOIN (SELECT run_id, max(step) AS step FROM neurons GROUP BY run_id) l USING (run_id, step)
        GROUP BY n.run_id)
      SELECT r.activation,
             round(avg(f.value) FILTER (WHERE f.against = 'input'), 4)  AS input_alignment,
             round(avg(f.value) FILTER (WHERE f.against = 'target'), 4) AS target_alignment,
             round(avg(n.intra_share), 4) AS intra_share,
             round(avg(n.active), 2) AS active_conditions,
             round(avg(r.final_loss), 4) AS final_loss,
             count(DISTINCT r.run_id) AS runs,
             count(DISTINCT r.run_id) FILTER (WHERE r.converged) AS converged
      FROM final f JOIN runs r USING (run_id) JOIN n USING (run_id)
      WHERE f.metric = 'kernel_alignment' AND f.scope = 'run' AND r.status = 'completed'
      GROUP BY r.activation ORDER BY target_alignment DESC`,
  },
});
