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
 * | decodability          | decodability / – / target0… / svm or ridge                          | yes           |
 * | participation_ratio   | participation_ratio / – (of the means, or of the samples)           | for 'samples' |
 * | sparsity              | sparsity / – (fraction of active units)                             | no            |
 * | training              | loss, accuracy / target (always added)                               | no            |
 *
 * Every metric takes `steps: 'all' | 'final'` (default 'all'): 'final' computes it only at the
 * last checkpoint of each run, for the expensive decoding metrics.
 */
import type { Matrix, Representation } from '../types.js';
import { ConfigError, requireNumber, requireOneOf } from '../errors.js';
import { linearCKA, kernelAlignment, debiasedCKA, rbfCKA } from '../metrics/cka.js';
import { gram } from '../metrics/matrix.js';
import { rdm, compareRdms, RDM_COMPARISONS, RDM_METRICS, type RdmComparison, type RdmMetric } from '../metrics/rdm.js';
import { parallelismScore } from '../metrics/parallelism.js';
import { CCGP_SCHEMES } from '../metrics/decoding.js';
import { participationRatio, sparsity } from '../metrics/spectrum.js';
import { signedTargets, taskDichotomies } from '../sources/task-dichotomies.js';
import { CLASSIFIERS, type ClassifierName } from '../metrics/classifiers.js';
import type { WorkerPool } from '../parallel/pool.js';
import { pooled } from '../parallel/metrics.js';
import { shatteringDimensionalityParallel } from '../parallel/metrics.js';

/** One computed number with its coordinates, before the operator adds run, step and scope. */
export interface MetricValue {
  metric: string;
  against?: string | null;
  dichotomy?: string | null;
  classifier?: string | null;
  value: number;
  /** For values from classifier fits: did every fit converge (MetricRow.converged). */
  converged?: boolean | null;
}

type Options = Record<string, unknown>;

/** A metric the geometry operator hosts. */
export interface GeometryMetric {
  /** Option names and their validation (throws a ConfigError naming the field); `steps` is common to all. */
  options: Record<string, (field: string, v: unknown) => void>;
  /** True for the decoding metrics, whose classifier fits run on the operator's worker pool when it has one. */
  pooled?: boolean;
  /**
   * What the metric needs besides the condition means, with the given options: the task's input
   * means (`inputs`), noisy samples (`samples`). Checked before any work (`checkMetricNeeds`).
   */
  needs?(options: Options): { inputs?: boolean; samples?: boolean };
  /**
   * Values for one network's representation. With a worker pool, the decoding metrics run their
   * classifier fits on it and return a promise.
   */
  perRun?(rep: Representation, options: Options, pool?: WorkerPool | null): MetricValue[] | Promise<MetricValue[]>;
  /** Values for the networks of one ensemble at one step (e.g. on the seed-averaged kernel). */
  perEnsemble?(reps: Representation[], options: Options): MetricValue[];
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

const classifierOption = (f: string, v: unknown) => {
  requireOneOf(f, v, CLASSIFIERS);
};
const dichotomyOption = (f: string, v: unknown) => {
  requireOneOf(f, v, ['targets', 'latents', 'all']);
};
const positiveInt = (min: number) => (f: string, v: unknown) => {
  requireNumber(f, v, { integer: true, min });
};

/** The `against` option of the comparison metrics: input and target (default), or one of them. */
export const AGAINST = ['both', 'input', 'target'] as const;
const againstOption = (f: string, v: unknown) => {
  requireOneOf(f, v, AGAINST);
};
const againstNeeds = (o: Options) => ({ inputs: (o.against ?? 'both') !== 'target' });

/** A comparison metric's rows against the task's inputs and/or targets (option `against`). */
const both = (rep: Representation, f: (ref: Matrix) => number, metric: string, o: Options): MetricValue[] => {
  const against = (o.against as (typeof AGAINST)[number]) ?? 'both';
  return [
    ...(against === 'target' ? [] : [{ metric, against: 'input', value: f(rep.run.task.means) }]),
    ...(against === 'input' ? [] : [{ metric, against: 'target', value: f(signedTargets(rep.run.task.targets)) }]),
  ];
};

export const GEOMETRY_METRICS: Record<string, GeometryMetric> = {
  /**
   * Kernel alignment (linear CKA) of the hidden representation of the condition means with the
   * input kernel Kx = M Mᵀ and the target kernel Ky = (2Y − 1)(2Y − 1)ᵀ; per network, and for the
   * ensemble on the seed-averaged hidden kernel.
   */
  kernel_alignment: {
    options: { against: againstOption },
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
      const against = (o.against as (typeof AGAINST)[number]) ?? 'both';
      return [
        ...(against === 'target'
          ? []
          : [{ metric: 'kernel_alignment', against: 'input', value: kernelAlignment(K, gram(task.means)) }]),
        ...(against === 'input'
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
  },
  /** Debiased linear CKA (Song et al.'s unbiased HSIC) against input and target features. */
  debiased_cka: {
    options: { against: againstOption },
    needs: againstNeeds,
    perRun: (rep, o) => both(rep, (ref) => debiasedCKA(rep.means, ref), 'debiased_cka', o),
  },
  /** RBF CKA (bandwidth `threshold` × median distance, default 1) against input and target features. */
  rbf_cka: {
    options: {
      threshold: (f, v) => {
        requireNumber(f, v, { min: 0, exclusiveMin: true });
      },
      against: againstOption,
    },
    needs: againstNeeds,
    perRun: (rep, o) =>
      both(rep, (ref) => rbfCKA(rep.means, ref, { threshold: (o.threshold as number) ?? 1 }), 'rbf_cka', o),
  },
  /** RSA: the RDM of the hidden condition means compared with the input and target RDMs. */
  rsa: {
    options: {
      rdm: (f, v) => {
        requireOneOf(f, v, RDM_METRICS);
      },
      compare: (f, v) => {
        requireOneOf(f, v, RDM_COMPARISONS);
      },
      against: againstOption,
    },
    needs: againstNeeds,
    perRun(rep, o) {
      const metric = (o.rdm as RdmMetric) ?? 'euclidean';
      const method = (o.compare as RdmComparison) ?? 'spearman';
      const hidden = rdm(rep.means, metric);
      return both(rep, (ref) => compareRdms(hidden, rdm(ref, metric), method), 'rsa', o);
    },
  },
  /** Parallelism score of each balanced target (or latent, or every balanced) dichotomy, on the condition means. */
  ps: {
    options: { dichotomies: dichotomyOption },
    perRun: (rep, o) =>
      taskDichotomies(rep.run.task, (o.dichotomies as 'targets') ?? 'targets').map((d) => ({
        metric: 'ps',
        dichotomy: d.name,
        value: parallelismScore(rep.means, d.positive).value,
      })),
  },
  /** CCGP of each dichotomy, on the noisy samples when probed, else on the condition means (centroids). */
  ccgp: {
    pooled: true,
    options: {
      dichotomies: dichotomyOption,
      classifier: classifierOption,
      scheme: (f, v) => {
        requireOneOf(f, v, CCGP_SCHEMES);
      },
    },
    perRun(rep, o, pool) {
      const classifier = (o.classifier as ClassifierName) ?? 'svm';
      const scheme = (o.scheme as 'bernardi') ?? 'bernardi';
      const data = rep.samples ?? {
        activity: rep.means,
        conditions: Int32Array.from({ length: rep.means.rows }, (_, i) => i),
      };
      return Promise.all(
        taskDichotomies(rep.run.task, (o.dichotomies as 'targets') ?? 'targets')
          .filter((d) => d.positive.length >= 2)
          .map(async (d) => {
            const r = await pooled(pool, 'ccgp', data.activity, data.conditions, d.positive, { classifier, scheme });
            return {
              metric: scheme === 'bernardi' ? 'ccgp' : 'ccgp_nearest',
              dichotomy: d.name,
              classifier,
              value: r.value,
              converged: r.fits.unconverged === 0,
            };
          }),
      );
    },
  },
  /** Shattering dimensionality on the noisy samples (cross-validated over balanced dichotomies). */
  sd: {
    pooled: true,
    options: { classifier: classifierOption, folds: positiveInt(2), maxDichotomies: positiveInt(1) },
    needs: () => ({ samples: true }),
    async perRun(rep, o, pool) {
      const s = requireSamples(rep, 'sd');
      const classifier = (o.classifier as ClassifierName) ?? 'svm';
      const r = await shatteringDimensionalityParallel(
        s.activity,
        s.conditions,
        { classifier, folds: o.folds as number, maxDichotomies: o.maxDichotomies as number },
        pool ?? null,
      );
      return [{ metric: 'sd', classifier, value: r.value, converged: r.fits.unconverged === 0 }];
    },
  },
  /** Cross-validated linear decodability of each target from the noisy samples. */
  decodability: {
    pooled: true,
    options: { classifier: classifierOption, folds: positiveInt(2) },
    needs: () => ({ samples: true }),
    perRun(rep, o, pool) {
      const s = requireSamples(rep, 'decodability');
      const classifier = (o.classifier as ClassifierName) ?? 'svm';
      const t = rep.run.task.targets;
      return Promise.all(
        Array.from({ length: t.cols }, async (_, k) => {
          const r = await pooled(
            pool,
            'decodability',
            s.activity,
            s.conditions,
            Array.from({ length: t.rows }, (_, p) => t.data[p * t.cols + k]),
            { classifier, folds: o.folds as number },
          );
          return {
            metric: 'decodability',
            dichotomy: `target${k}`,
            classifier,
            value: r.value,
            converged: r.fits.unconverged === 0,
          };
        }),
      );
    },
  },
  /** Participation ratio of the condition means (default) or of the noisy samples (`on: 'samples'`). */
  participation_ratio: {
    options: {
      on: (f, v) => {
        requireOneOf(f, v, ['means', 'samples']);
      },
    },
    needs: (o) => ({ samples: o.on === 'samples' }),
    perRun: (rep, o) => [
      {
        metric: 'participation_ratio',
        value: participationRatio(o.on === 'samples' ? requireSamples(rep, 'participation_ratio').activity : rep.means),
      },
    ],
  },
  /** Fraction of active units (activity > threshold, default 0) over the condition means. */
  sparsity: {
    options: {
      threshold: (f, v) => {
        requireNumber(f, v);
      },
      absolute: (f, v) => {
        if (typeof v !== 'boolean') throw new ConfigError(f, v, 'true or false');
      },
    },
    perRun: (rep, o) => [
      {
        metric: 'sparsity',
        value: sparsity(rep.means, { threshold: o.threshold as number, absolute: o.absolute as boolean }),
      },
    ],
  },
  /** Training-set loss and accuracy of the snapshot, as rows (none for ingested runs, which have neither). */
  training: {
    options: {},
    perRun: (rep) => [
      ...(rep.loss === null ? [] : [{ metric: 'loss', against: 'target', value: rep.loss }]),
      ...(rep.accuracy === null ? [] : [{ metric: 'accuracy', against: 'target', value: rep.accuracy }]),
    ],
  },
};
