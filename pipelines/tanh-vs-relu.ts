/**
 * The headline result at small scale (docs/science.md): on the aligned parity task (d = 3, k = 3),
 * Tanh hidden layers align with the target kernel, ReLU hidden layers keep more of the input
 * kernel, at every input–target alignment c. With low-dimensional targets, Tanh representations
 * are also more disentangled: the rows include the parallelism score (PS) and cross-condition
 * generalisation (CCGP) of each target, and the shattering dimensionality (SD).
 *
 *   npm start        (= geomstream run pipelines/tanh-vs-relu.ts --out results)
 */
import { pipe } from 'rxjs';
import { alignedParity, definePipeline, geometry, probe, sweep, train, type ActivationName } from '../src/index.js';

const D = 3;
const K = 3;
// c up to the "unstructured" value √(k / (P − 1)) = √(3/7) ≈ 0.655 (docs/science.md §1a). c = 0 is left
// out on purpose: there the inputs carry no linear trace of the targets, so the input–output
// covariance, and with it the inter-class axis u_i = Σ_p e_i(p) mu_p of the weight-space
// mechanism (docs/science.md §4), is exactly zero; what the networks learn there is driven by
// higher-order terms only (see the README, "What the default pipeline shows").
const C_MAX = Math.sqrt(K / (2 ** D - 1));
const ALIGNMENTS = [0.25, 0.5, 0.75, 1].map((f) => Number((f * C_MAX).toFixed(4)));

export default definePipeline({
  name: 'tanh-vs-relu',
  description:
    'Aligned parity task (d = 3, k = 3): tanh vs relu, final input and target kernel alignment per alignment c',
  seed: 2024,
  // Change any of these without editing this file: --set alignments=0,0.1637 --set seeds=10 (--list-params).
  params: ({ quick }) => ({
    alignments: quick ? [ALIGNMENTS[1], ALIGNMENTS[3]] : ALIGNMENTS,
    activations: ['tanh', 'relu'],
    seeds: quick ? 2 : 5,
    width: 128,
    lr: 0.1,
    epochs: quick ? 5 : 60,
    samples: quick ? 1000 : 5000,
    checkpoints: quick ? 4 : 12,
  }),
  runs: ({ seed, params }) =>
    sweep({
      seed,
      grid: { alignment: params.alignments, activation: params.activations },
      seeds: params.seeds,
      run: (p, seeds) => ({
        task: alignedParity({ d: D, k: K, alignment: p.alignment, N: 100, sigma: 1, seed: seeds.task }),
        network: { activation: p.activation as ActivationName, width: params.width, readout: 'frozen' }, // checked by sweep
        training: {
          lr: params.lr,
          batch: 64,
          samples: params.samples,
          epochs: params.epochs,
          checkpoints: { logSpaced: params.checkpoints },
        },
      }),
    }),
  process: (ctx) =>
    pipe(
      train(ctx.train),
      // 50 noisy samples per condition for the decoding metrics (the same samples at every checkpoint).
      probe({ samplesPerCondition: 50 }),
      geometry({
        metrics: [
          'kernel_alignment',
          'ps', // parallelism score of each target dichotomy, on the condition means
          { name: 'ccgp', classifier: 'svm', steps: 'final' }, // Bernardi et al.'s scheme, each target
          { name: 'sd', classifier: 'ridge', steps: 'final' }, // all 35 balanced dichotomies, 5-fold CV
        ],
        pool: ctx.pool, // the classifier fits of CCGP and SD share the training workers
      }),
    ),
  summary: {
    title:
      "Final kernel alignment of the hidden layer (mean over seeds); *_diff_ci: 95 % seed-bootstrap interval of tanh − relu; 'holds': yes when both exclude 0 as claimed (tanh above on target, relu on input), NO when one excludes 0 the other way, else tie",
    // bootstrap_diff_ci: the seed-level percentile bootstrap registered for every results folder
    // (src/query/bootstrap.ts); each run counts once (its input or its target row).
    sql: `
      WITH a AS (
        SELECT r.alignment,
               avg(f.value) FILTER (WHERE r.activation = 'tanh' AND f.against = 'input')  AS tanh_input,
               avg(f.value) FILTER (WHERE r.activation = 'relu' AND f.against = 'input')  AS relu_input,
               avg(f.value) FILTER (WHERE r.activation = 'tanh' AND f.against = 'target') AS tanh_target,
               avg(f.value) FILTER (WHERE r.activation = 'relu' AND f.against = 'target') AS relu_target,
               bootstrap_diff_ci(list(f.value) FILTER (WHERE r.activation = 'tanh' AND f.against = 'input'),
                                 list(f.value) FILTER (WHERE r.activation = 'relu' AND f.against = 'input')) AS input_ci,
               bootstrap_diff_ci(list(f.value) FILTER (WHERE r.activation = 'tanh' AND f.against = 'target'),
                                 list(f.value) FILTER (WHERE r.activation = 'relu' AND f.against = 'target')) AS target_ci,
               avg(r.final_loss) FILTER (WHERE r.activation = 'tanh' AND f.against = 'input') AS tanh_loss,
               avg(r.final_loss) FILTER (WHERE r.activation = 'relu' AND f.against = 'input') AS relu_loss,
               count(DISTINCT r.run_id) AS runs,
               count(DISTINCT r.run_id) FILTER (WHERE r.converged) AS converged
        FROM final f JOIN runs r USING (run_id)
        WHERE f.metric = 'kernel_alignment' AND f.scope = 'run' AND r.status = 'completed'
        GROUP BY r.alignment)
      SELECT alignment, round(tanh_input, 4) AS tanh_input, round(relu_input, 4) AS relu_input,
             printf('[%+.3f, %+.3f]', input_ci.lo, input_ci.hi) AS input_diff_ci,
             round(tanh_target, 4) AS tanh_target, round(relu_target, 4) AS relu_target,
             printf('[%+.3f, %+.3f]', target_ci.lo, target_ci.hi) AS target_diff_ci,
             round(tanh_loss, 4) AS tanh_loss, round(relu_loss, 4) AS relu_loss, runs, converged,
             CASE WHEN target_ci.hi < 0 OR input_ci.lo > 0 THEN 'NO'
                  WHEN target_ci.lo > 0 AND input_ci.hi < 0 THEN 'yes'
                  WHEN target_ci.lo IS NOT NULL AND input_ci.lo IS NOT NULL THEN 'tie' END AS holds
      FROM a ORDER BY alignment`,
  },
});
