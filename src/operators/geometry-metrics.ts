/**
 * The metrics the `geometry` operator can compute, by name: each adapts pure functions from
 * `src/metrics` to a `Representation` (and its task) and returns long-format values. Options are
 * validated when `geometry()` is called, before any work.
 *
 * | name                  | rows (metric / against / dichotomy / classifier)                   | needs samples |
 * |-----------------------|--------------------------------------------------------------------|---------------|
 * | kernel_alignment      | kernel_alignment / input, target (also per ensemble)                | no            |
 * | debiased_cka, rbf_cka | same name / input, target                                           | no            |
 * | rsa                   | rsa / input, target (RDMs of the condition means compared)          | no            |
 * | ps                    | ps / – / target0… (each balanced target; 'latents' or 'all' too)    | no            |
 * | ccgp                  | ccgp or ccgp_nearest / – / target0… / svm or ridge                  | no (centroids if absent) |
 * | sd                    | sd / – / – / svm or ridge                                           | yes           |
 * | decodability          | decodability / – / target0… (or the latents, latent0…) / svm or ridge | yes          |
 * | participation_ratio   | participation_ratio / – (of the means, or of the samples)           | for 'samples' |
 * | sparsity              | sparsity / – (fraction of active units)                             | no            |
 * | training              | loss, accuracy / target (always added)                               | no            |
 *
 * Every metric takes `steps: 'all' | 'final'` (default 'all'): 'final' computes it only at the
 * last checkpoint of each run, for the expensive decoding metrics.
 */
import type { Matrix, Representation } from '../types.js';
import { ConfigError, requireNumber, requireOneOf } from '../errors.js';
import { Rng, deriveSeed } from '../random.js';
import {
  NULL_DEFAULTS,
  geometricNull,
  nullSummary,
  permutedRows,
  shuffledConditions,
  shuffledUnits,
} from '../metrics/nulls.js';
import { linearCKA, kernelAlignment, debiasedCKA, rbfCKA } from '../metrics/cka.js';
import { gram } from '../metrics/matrix.js';
import { rdm, compareRdms, RDM_COMPARISONS, RDM_METRICS } from '../metrics/rdm.js';
import { parallelismScore } from '../metrics/parallelism.js';
import { CCGP_SCHEMES, DEFAULT_CCGP_SCHEME } from '../metrics/decoding.js';
import { participationRatio, sparsity } from '../metrics/spectrum.js';
import { signedTargets, taskDichotomies } from '../sources/task-dichotomies.js';
import { CLASSIFIERS, DEFAULT_CLASSIFIER } from '../metrics/classifiers.js';
import { pooled } from '../parallel/metrics.js';
import {
  defineMetric,
  finiteNumber,
  flag,
  integerAtLeast,
  oneOf,
  type MetricOption,
  type MetricValue,
  type RequestFor,
} from './metric-definition.js';
import { shatteringDimensionalityParallel } from '../parallel/metrics.js';

/** Samples and conditions under a decoding null model (src/metrics/nulls.ts). */
function nullData(model: NullModel, activity: Matrix, conditions: Int32Array, rng: Rng): [Matrix, Int32Array] {
  return model === 'geometric'
    ? [geometricNull(activity, conditions, rng), conditions]
    : [activity, shuffledConditions(conditions, rng)];
}

function requireSamples(rep: Representation, metric: string): { activity: Matrix; conditions: Int32Array } {
  if (!rep.samples) {
    throw new ConfigError(
      'metrics',
      metric,
      `'${metric}' only with noisy samples of every condition: probe({ samplesPerCondition: n }) before geometry() (analyze: --samples-per-condition n; activation files: several rows per condition)`,
    );
  }
  return rep.samples;
}

const classifier = oneOf(CLASSIFIERS, DEFAULT_CLASSIFIER);
const dichotomies = oneOf(['targets', 'latents', 'all'], 'targets');
export const AGAINST = ['both', 'input', 'target'] as const;
const against = oneOf(AGAINST, 'both');
const againstNeeds = (o: { against: (typeof AGAINST)[number] }) => ({ inputs: o.against !== 'target' });

export const NULL_MODELS = ['shuffle', 'geometric', 'permutation'] as const;
export type NullModel = (typeof NULL_MODELS)[number];
/** The `null` option of a metric: its model, draws (default 100) and seed (default 0). */
export interface NullRequest {
  model: NullModel;
  samples?: number;
  seed?: number;
}

/** The `null` option, accepting the given models; off (undefined) by default. */
function nullOption(models: readonly NullModel[]): MetricOption<NullRequest | undefined> {
  return {
    default: undefined,
    check(f, v) {
      const shape = `{ model: ${models.map((m) => `'${m}'`).join(' | ')}, samples?: integer >= 2, seed?: integer >= 0 }`;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(f, v, shape);
      const {
        model,
        samples = NULL_DEFAULTS.samples,
        seed = NULL_DEFAULTS.seed,
        ...rest
      } = v as Record<string, unknown>;
      for (const k of Object.keys(rest)) throw new ConfigError(`${f}.${k}`, rest[k], shape);
      return {
        model: requireOneOf(`${f}.model`, model, models),
        samples: requireNumber(`${f}.samples`, samples, { integer: true, min: 2, max: 100_000 }),
        seed: requireNumber(`${f}.seed`, seed, { integer: true, min: 0 }),
      };
    },
  };
}

/**
 * `v` with its permutation test against `draw` (the metric on null data; it must use `rng` before
 * it awaits, so that the draws are the same whatever the pool does). Each value's draws come from
 * the null seed and the value's coordinates (run, step, layer, metric, against, dichotomy), so they
 * do not depend on which other values were computed.
 */
async function tested(
  v: MetricValue,
  request: NullRequest | undefined,
  rep: Representation,
  draw: (rng: Rng) => number | Promise<number>,
): Promise<MetricValue> {
  if (!request) return v;
  const { samples, seed: base } = request as Required<NullRequest>; // filled in by nullOption's check
  const seed = deriveSeed(base, rep.run_id, rep.step, rep.layer, v.metric, v.against ?? null, v.dichotomy ?? null);
  const rng = new Rng(seed);
  const draws: Array<number | Promise<number>> = [];
  for (let i = 0; i < samples; i++) draws.push(draw(rng));
  return { ...v, null: { model: request.model, ...nullSummary(v.value, await Promise.all(draws)) } };
}

/**
 * The metric's value against the task's input means and its ±1 targets, as `against` asks; with
 * `null` ('permutation'), tested against the reference's conditions permuted.
 */
const both = (
  rep: Representation,
  f: (ref: Matrix) => number,
  metric: string,
  o: { against: (typeof AGAINST)[number]; null: NullRequest | undefined },
): MetricValue[] | Promise<MetricValue[]> => {
  const refs: Array<[string, Matrix]> = [];
  if (o.against !== 'target') refs.push(['input', rep.run.task.means]);
  if (o.against !== 'input') refs.push(['target', signedTargets(rep.run.task.targets)]);
  const values = refs.map(([against, ref]) => ({ metric, against, value: f(ref) }));
  // Without a null, in this turn: the common path stays synchronous.
  if (!o.null) return values;
  return Promise.all(values.map((v, i) => tested(v, o.null, rep, (rng) => f(permutedRows(refs[i][1], rng)))));
};
const permutation = nullOption(['permutation']);

export const GEOMETRY_METRICS = Object.freeze({
  /**
   * Kernel alignment (linear CKA) of the hidden representation of the condition means with the
   * input kernel Kx = M Mᵀ and the target kernel Ky = (2Y − 1)(2Y − 1)ᵀ; per network, and for the
   * ensemble on the seed-averaged hidden kernel.
   */
  kernel_alignment: defineMetric({
    options: { against, null: permutation },
    needs: againstNeeds,
    perRun: (rep, o) => both(rep, (ref) => linearCKA(rep.means, ref), 'kernel_alignment', o),
    perEnsemble(reps, o) {
      const task = reps[0].run.task;
      const P = task.P;
      const mean = new Float64Array(P * P);
      for (const r of reps) {
        const k = gram(r.means);
        for (let i = 0; i < mean.length; i++) mean[i] += k.data[i] / reps.length;
      }
      const K = { rows: P, cols: P, data: mean };
      return [
        ...(o.against === 'target'
          ? []
          : [{ metric: 'kernel_alignment', against: 'input', value: kernelAlignment(K, gram(task.means)) }]),
        ...(o.against === 'input'
          ? []
          : [
              {
                metric: 'kernel_alignment',
                against: 'target',
                value: kernelAlignment(K, gram(signedTargets(task.targets))),
              },
            ]),
      ];
    },
  }),
  /** Debiased linear CKA (Song et al.'s unbiased HSIC) against input and target features. */
  debiased_cka: defineMetric({
    options: { against, null: permutation },
    needs: againstNeeds,
    perRun: (rep, o) => both(rep, (ref) => debiasedCKA(rep.means, ref), 'debiased_cka', o),
  }),
  /** RBF CKA (bandwidth `threshold` × median distance, default 1) against input and target features. */
  rbf_cka: defineMetric({
    options: { threshold: finiteNumber({ min: 0, exclusiveMin: true }), against, null: permutation },
    needs: againstNeeds,
    perRun: (rep, o) => both(rep, (ref) => rbfCKA(rep.means, ref, { threshold: o.threshold }), 'rbf_cka', o),
  }),
  /** RSA: the RDM of the hidden condition means compared with the input and target RDMs. */
  rsa: defineMetric({
    options: { rdm: oneOf(RDM_METRICS), compare: oneOf(RDM_COMPARISONS), against, null: permutation },
    needs: againstNeeds,
    perRun(rep, o) {
      const hidden = rdm(rep.means, o.rdm);
      return both(rep, (ref) => compareRdms(hidden, rdm(ref, o.rdm), o.compare), 'rsa', o);
    },
  }),
  /** Parallelism score of each balanced target (or latent, or every balanced) dichotomy, on the condition means. */
  ps: defineMetric({
    // 'shuffle': each unit's values permuted across the conditions (Bernardi et al.'s PS null).
    options: { dichotomies, null: nullOption(['shuffle']) },
    perRun(rep, o) {
      const ds = taskDichotomies(rep.run.task, o.dichotomies);
      const values = ds.map((d) => ({
        metric: 'ps',
        dichotomy: d.name,
        value: parallelismScore(rep.means, d.positive).value,
      }));
      if (!o.null) return values;
      return Promise.all(
        values.map((v, i) =>
          tested(v, o.null, rep, (rng) => parallelismScore(shuffledUnits(rep.means, rng), ds[i].positive).value),
        ),
      );
    },
  }),
  /** CCGP of each dichotomy, on the noisy samples when probed, else on the condition means (centroids). */
  ccgp: defineMetric({
    pooled: true,
    // 'shuffle': the samples' condition labels permuted; 'geometric': the conditions' clouds moved to random centroids.
    options: {
      dichotomies,
      classifier,
      scheme: oneOf(CCGP_SCHEMES, DEFAULT_CCGP_SCHEME),
      null: nullOption(['shuffle', 'geometric']),
    },
    perRun(rep, o, pool) {
      const { classifier, scheme } = o;
      const data = rep.samples ?? {
        activity: rep.means,
        conditions: Int32Array.from({ length: rep.means.rows }, (_, i) => i),
      };
      return Promise.all(
        taskDichotomies(rep.run.task, o.dichotomies)
          .filter((d) => d.positive.length >= 2)
          .map(async (d) => {
            const r = await pooled(pool, 'ccgp', data.activity, data.conditions, d.positive, { classifier, scheme });
            const v = {
              metric: scheme === 'bernardi' ? 'ccgp' : 'ccgp_nearest',
              dichotomy: d.name,
              classifier,
              value: r.value,
              fits_converged: r.fits.unconverged === 0,
            };
            return tested(v, o.null, rep, (rng) => {
              const [x, c] = nullData(o.null!.model, data.activity, data.conditions, rng);
              return pooled(pool, 'ccgp', x, c, d.positive, { classifier, scheme }).then((n) => n.value);
            });
          }),
      );
    },
  }),
  /** Shattering dimensionality on the noisy samples (cross-validated over balanced dichotomies). */
  sd: defineMetric({
    pooled: true,
    options: {
      classifier,
      folds: integerAtLeast(2),
      maxDichotomies: integerAtLeast(1),
      null: nullOption(['shuffle', 'geometric']),
    },
    needs: () => ({ samples: true }),
    async perRun(rep, o, pool) {
      const s = requireSamples(rep, 'sd');
      const { classifier, folds, maxDichotomies } = o;
      const r = await shatteringDimensionalityParallel(
        s.activity,
        s.conditions,
        { classifier, folds, maxDichotomies },
        pool ?? null,
      );
      const v = { metric: 'sd', classifier, value: r.value, fits_converged: r.fits.unconverged === 0 };
      return [
        await tested(v, o.null, rep, (rng) => {
          const [x, c] = nullData(o.null!.model, s.activity, s.conditions, rng);
          return shatteringDimensionalityParallel(x, c, { classifier, folds, maxDichotomies }, pool ?? null).then(
            (n) => n.value,
          );
        }),
      ];
    },
  }),
  /**
   * Cross-validated linear decodability from the noisy samples of each target (every target column,
   * balanced or not), or with `dichotomies: 'latents'` of each balanced latent variable (the
   * separable XOR's a and b: what the network was not trained to output), or 'all' balanced ones.
   */
  decodability: defineMetric({
    pooled: true,
    options: { classifier, folds: integerAtLeast(2), dichotomies, null: nullOption(['shuffle', 'geometric']) },
    needs: () => ({ samples: true }),
    perRun(rep, o, pool) {
      const s = requireSamples(rep, 'decodability');
      const { classifier } = o;
      const t = rep.run.task.targets;
      const P = rep.run.task.P;
      const named =
        o.dichotomies === 'targets'
          ? Array.from({ length: t.cols }, (_, k) => ({
              name: `target${k}`,
              labels: Array.from({ length: t.rows }, (_, p) => t.data[p * t.cols + k]),
            }))
          : taskDichotomies(rep.run.task, o.dichotomies).map((d) => ({
              name: d.name,
              labels: Array.from({ length: P }, (_, p) => (d.positive.includes(p) ? 1 : 0)),
            }));
      return Promise.all(
        named.map(async ({ name, labels }) => {
          const r = await pooled(pool, 'decodability', s.activity, s.conditions, labels, {
            classifier,
            folds: o.folds,
          });
          const v = {
            metric: 'decodability',
            dichotomy: name,
            classifier,
            value: r.value,
            fits_converged: r.fits.unconverged === 0,
          };
          return tested(v, o.null, rep, (rng) => {
            const [x, c] = nullData(o.null!.model, s.activity, s.conditions, rng);
            return pooled(pool, 'decodability', x, c, labels, { classifier, folds: o.folds }).then((n) => n.value);
          });
        }),
      );
    },
  }),
  /** Participation ratio of the condition means (default) or of the noisy samples (`on: 'samples'`). */
  participation_ratio: defineMetric({
    options: { on: oneOf(['means', 'samples'], 'means') },
    needs: (o) => ({ samples: o.on === 'samples' }),
    perRun: (rep, o) => [
      {
        metric: 'participation_ratio',
        value: participationRatio(o.on === 'samples' ? requireSamples(rep, 'participation_ratio').activity : rep.means),
      },
    ],
  }),
  /** Fraction of active units (activity > threshold, default 0) over the condition means. */
  sparsity: defineMetric({
    options: { threshold: finiteNumber(), absolute: flag() },
    perRun: (rep, o) => [
      { metric: 'sparsity', value: sparsity(rep.means, { threshold: o.threshold, absolute: o.absolute }) },
    ],
  }),
  /** Training-set loss and accuracy of the snapshot, as rows (none for ingested runs, which have neither). */
  training: defineMetric({
    options: {},
    perRun: (rep) => [
      ...(rep.loss === null ? [] : [{ metric: 'loss', against: 'target', value: rep.loss }]),
      ...(rep.accuracy === null ? [] : [{ metric: 'accuracy', against: 'target', value: rep.accuracy }]),
    ],
  }),
});

/** The name of a metric the geometry operator hosts. */
export type MetricName = keyof typeof GEOMETRY_METRICS;

/**
 * A request for one metric: its name, or `{ name, steps?, ...its options }` — a union on `name`,
 * so TypeScript checks each metric's options (`{ name: 'ccgp', classifier: 'knn' }` does not compile).
 */
export type MetricRequest = {
  [K in MetricName]: RequestFor<K, (typeof GEOMETRY_METRICS)[K]['options']>;
}[MetricName];
