// examples/custom-metric.ts: a metric of your own, an RxJS operator, in a pipeline.
import { concatMap, type OperatorFunction, pipe } from 'rxjs';
import {
  alignedParity,
  definePipeline,
  geometry,
  type MetricRow,
  metricRow,
  probe,
  type Representation,
  type StreamRecord,
  sweep,
  train,
} from '../src/index.js';

/**
 * Per target k: the mean distance between condition means on opposite sides of target k, over
 * the mean distance between those on the same side (above 1: the hidden layer separates it).
 */
function targetSeparation(rep: Representation): MetricRow[] {
  const { rows: P, cols: H, data } = rep.means; // P conditions × H hidden units, row-major
  const targets = rep.run.task.targets; // P × K, 0/1
  const distance = (p: number, q: number) => {
    let s = 0;
    for (let h = 0; h < H; h++) s += (data[p * H + h] - data[q * H + h]) ** 2;
    return Math.sqrt(s);
  };
  return Array.from({ length: targets.cols }, (_, k) => {
    const same = [0, 0]; // sum of distances, pairs
    const opposite = [0, 0];
    for (let p = 0; p < P; p++)
      for (let q = p + 1; q < P; q++) {
        const sums = targets.data[p * targets.cols + k] === targets.data[q * targets.cols + k] ? same : opposite;
        sums[0] += distance(p, q);
        sums[1]++;
      }
    return metricRow(rep, {
      metric: 'target_separation',
      dichotomy: `target${k}`,
      value: opposite[0] / opposite[1] / (same[0] / same[1]),
    }); // its run, step, layer from rep; every other column null
  });
}

/** Representation → the same representation (geometry needs it) and its rows; other kinds pass through. */
export const separation = (): OperatorFunction<StreamRecord, StreamRecord> =>
  concatMap((r: StreamRecord) => (r.kind === 'representation' ? [r, ...targetSeparation(r)] : [r]));

export default definePipeline({
  name: 'custom-metric',
  seed: 1,
  params: { seeds: 3, epochs: 30 },
  runs: ({ seed, params }) =>
    sweep({
      seed,
      grid: { activation: ['tanh', 'relu'] as const },
      seeds: params.seeds,
      run: (p, seeds) => ({
        task: alignedParity({ d: 3, k: 3, alignment: 0.5, seed: seeds.task }),
        network: { activation: p.activation, width: 64 },
        training: { lr: 0.1, epochs: params.epochs, samples: 1000, checkpoints: { logSpaced: 5 } },
      }),
    }),
  process: (ctx) => pipe(train(ctx.train), probe(), separation(), geometry({ metrics: ['kernel_alignment'] })),
  summary: {
    title: 'target separation at the last checkpoint (mean over targets and seeds)',
    sql: `SELECT r.activation, avg(f.value) AS target_separation, count(DISTINCT r.run_id) AS runs
          FROM final f JOIN runs r USING (run_id) WHERE f.metric = 'target_separation' GROUP BY ALL ORDER BY ALL`,
  },
});
