/**
 * The paper's multi-layer extension (docs/science.md §2): MLPs of depth 1, 5 and 10 (hidden layers
 * of width 128), tanh and relu, trained with Adam (lr 1e-3, PyTorch's defaults) and a trainable
 * readout for 5000 epochs, 10 networks per setting, on the default pipeline's aligned parity task
 * (d = 3, k = 3) at c = ½·√(k/(P − 1)). Kernel alignment of every hidden layer with the input and
 * the target kernels over training (30 log-spaced checkpoints), per network and of the
 * ensemble-average kernel (scope 'ensemble').
 *
 *   geomstream run pipelines/deep-networks.ts --quick     (a smoke version: depths 1 and 5, 2 networks, 3 epochs)
 *   geomstream run pipelines/deep-networks.ts --set depths=1,5 --set epochs=1000
 */
import { pipe } from 'rxjs';
import { alignedParity, definePipeline, geometry, probe, sweep, train, type ActivationName } from '../src/index.js';

const D = 3;
const K = 3;
const C_MAX = Math.sqrt(K / (2 ** D - 1));

export default definePipeline({
  name: 'deep-networks',
  description:
    'Aligned parity (d = 3, k = 3): MLPs of depth 1, 5, 10, tanh vs relu, Adam, trained readout; kernel alignment of every layer over training',
  seed: 2025,
  params: ({ quick }) => ({
    depths: quick ? [1, 5] : [1, 5, 10],
    activations: ['tanh', 'relu'],
    alignments: [Number((0.5 * C_MAX).toFixed(4))],
    seeds: quick ? 2 : 10,
    width: quick ? 32 : 128,
    lr: 1e-3,
    epochs: quick ? 3 : 5000,
    samples: quick ? 640 : 5000,
    checkpoints: quick ? 3 : 30,
  }),
  runs: ({ seed, params }) =>
    sweep({
      seed,
      grid: { depth: params.depths, alignment: params.alignments, activation: params.activations },
      seeds: params.seeds,
      run: (p, seeds) => ({
        task: alignedParity({ d: D, k: K, alignment: p.alignment, N: 100, sigma: 1, seed: seeds.task }),
        network: {
          activation: p.activation as ActivationName, // checked by sweep
          width: params.width,
          depth: p.depth,
          readout: 'trained',
        },
        training: {
          optimizer: 'adam',
          lr: params.lr,
          batch: 64,
          samples: params.samples,
          epochs: params.epochs,
          checkpoints: { logSpaced: params.checkpoints },
        },
      }),
    }),
  // Every hidden layer is a representation (the `layer` column); per network and ensemble-averaged.
  process: (ctx) => pipe(train(ctx.train), probe({ layer: 'all' }), geometry({ metrics: ['kernel_alignment'] })),
  summary: {
    title:
      'Final kernel alignment of each hidden layer with the input and the target kernels (mean over networks, scope run), per depth and activation',
    sql: `
      SELECT r.depth, r.alignment, r.activation, f.layer,
             round(avg(f.value) FILTER (WHERE f.against = 'input'), 4) AS input,
             round(avg(f.value) FILTER (WHERE f.against = 'target'), 4) AS target,
             round(avg(r.final_loss), 4) AS final_loss,
             count(DISTINCT r.run_id) AS runs
      FROM final f JOIN runs r USING (run_id)
      WHERE f.metric = 'kernel_alignment' AND f.scope = 'run'
      GROUP BY ALL ORDER BY r.depth, r.alignment, r.activation, f.layer`,
  },
});
