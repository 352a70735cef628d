/**
 * The metrics the `geometry` operator can compute, by name: each adapts pure functions from
 * `src/metrics` to a `Representation` (and its task) and returns long-format values.
 */
import type { Matrix, Representation } from '../types.js';
import { linearCKA, kernelAlignment } from '../metrics/cka.js';
import { gram } from '../metrics/matrix.js';

/** One computed number with its coordinates, before the operator adds run, step and scope. */
export interface MetricValue {
  metric: string;
  against?: string | null;
  dichotomy?: string | null;
  classifier?: string | null;
  value: number;
}

/** A metric the geometry operator hosts. */
export interface GeometryMetric {
  /** Values for one network's representation. */
  perRun?(rep: Representation, options: Record<string, unknown>): MetricValue[];
  /** Values for the networks of one ensemble at one step (e.g. on the seed-averaged kernel). */
  perEnsemble?(reps: Representation[], options: Record<string, unknown>): MetricValue[];
  /** Option names this metric accepts (anything else is rejected before work starts). */
  options: string[];
}

/** ±1 coding of the targets, P × K: the feature matrix whose linear kernel is the target kernel Ky. */
export function signedTargets(targets: Matrix): Matrix {
  return { rows: targets.rows, cols: targets.cols, data: Float64Array.from(targets.data, (v) => 2 * v - 1) };
}

/**
 * Kernel alignment (linear CKA) of the hidden representation of the condition means with the
 * input kernel Kx = M Mᵀ (`against = 'input'`) and the target kernel Ky = (2Y − 1)(2Y − 1)ᵀ
 * (`against = 'target'`); per network, and for the ensemble on the seed-averaged hidden kernel.
 */
const kernelAlignmentMetric: GeometryMetric = {
  options: [],
  perRun(rep) {
    const task = rep.run.task;
    return [
      { metric: 'kernel_alignment', against: 'input', value: linearCKA(rep.means, task.means) },
      { metric: 'kernel_alignment', against: 'target', value: linearCKA(rep.means, signedTargets(task.targets)) },
    ];
  },
  perEnsemble(reps) {
    const task = reps[0].run.task;
    const P = task.P;
    const mean = new Float64Array(P * P);
    for (const r of reps) {
      const k = gram(r.means);
      for (let i = 0; i < mean.length; i++) mean[i] += k.data[i] / reps.length;
    }
    const K = { rows: P, cols: P, data: mean };
    return [
      { metric: 'kernel_alignment', against: 'input', value: kernelAlignment(K, gram(task.means)) },
      { metric: 'kernel_alignment', against: 'target', value: kernelAlignment(K, gram(signedTargets(task.targets))) },
    ];
  },
};

/** Training-set loss and accuracy of the snapshot, as rows (`metric = 'loss' | 'accuracy'`). */
const trainingMetric: GeometryMetric = {
  options: [],
  perRun: (rep) => [
    { metric: 'loss', against: 'target', value: rep.loss },
    { metric: 'accuracy', against: 'target', value: rep.accuracy },
  ],
};

export const GEOMETRY_METRICS: Record<string, GeometryMetric> = {
  kernel_alignment: kernelAlignmentMetric,
  training: trainingMetric,
};
