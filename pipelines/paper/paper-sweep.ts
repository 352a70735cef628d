/**
 * The paper's alignment sweep, shared by the pipelines of this folder (docs/science.md §1a, §2):
 * d ∈ {3, 5} latent bits, k ∈ {1, d} targets, 12 alignments from 0 to √(k/(P−1)), tanh, relu,
 * bounded relu (u ∈ {1, 1.5, 2}) and shifted relu (s ∈ {±0.5, ±1}); 10 networks per setting,
 * width 128, SGD at lr 1e-3, batch 64, 5000 samples, up to 1000 epochs with the early stop
 * (largest parameter change over an epoch ≤ 1e-5), kernel alignment every 10 epochs, per network
 * and of the kernel averaged over the 10 networks (the `scope = 'ensemble'` rows, the paper's main
 * quantity). `--quick`: a smoke version (two alignments, 2 networks, a few epochs).
 */
import { pipe } from 'rxjs';
import {
  type ActivationSpec,
  ConfigError,
  definePipeline,
  geometry,
  type Pipeline,
  probe,
  sweep,
  type Task,
  train,
} from '../../src/index.js';

/** Grid labels → activation specs (grid values must be plain scalars). */
export const PAPER_ACTIVATIONS: Record<string, ActivationSpec> = {
  tanh: 'tanh',
  relu: 'relu',
  'bounded-relu(u=1)': { name: 'bounded-relu', u: 1 },
  'bounded-relu(u=1.5)': { name: 'bounded-relu', u: 1.5 },
  'bounded-relu(u=2)': { name: 'bounded-relu', u: 2 },
  'shifted-relu(s=-1)': { name: 'shifted-relu', s: -1 },
  'shifted-relu(s=-0.5)': { name: 'shifted-relu', s: -0.5 },
  'shifted-relu(s=0.5)': { name: 'shifted-relu', s: 0.5 },
  'shifted-relu(s=1)': { name: 'shifted-relu', s: 1 },
};

/** The paper's training: lr 1e-3, up to 1000 epochs, early stop at max |Δθ| ≤ 1e-5 per epoch. */
export const PAPER_TRAINING = { lr: 1e-3, batch: 64, samples: 5000, epochs: 1000, stop: 1e-5, every: 10 } as const;

/** A sweep pipeline of the paper's grid over a task family: `task(d, k, alignment, seed)`. */
export function paperSweep(spec: {
  name: string;
  description: string;
  seed: number;
  task: (p: { d: number; k: number; alignment: number; seed: number; variant: string }) => Task;
  /** The largest alignment of (d, k): √(k / (P − 1)) for parity tasks. */
  cMax: (d: number, k: number) => number;
  /** Latent bits d (P = 2^d). Default [3, 5] (--quick: [3]). */
  d?: { full: number[]; quick: number[] };
  /** A further task coordinate, passed to `task` as `variant` (e.g. the random kernel's rank). Default none. */
  variant?: { name: string; values: string[] };
}): Pipeline {
  const v = (table: string) => (spec.variant ? `${table}"${spec.variant.name}",` : '');
  return definePipeline({
    name: spec.name,
    description: spec.description,
    seed: spec.seed,
    // --set d=3 --set activations=tanh,relu --set epochs=300 … (--list-params); activations are keys of PAPER_ACTIVATIONS.
    params: ({ quick }) => ({
      d: quick ? (spec.d?.quick ?? [3]) : (spec.d?.full ?? [3, 5]),
      variants: spec.variant?.values ?? ['none'],
      // 'one': k = 1 target; 'all': k = d targets.
      targets: quick ? ['all'] : ['one', 'all'],
      // 'below': c = fraction·√(k/(P−1)), from 0 to the unstructured value (the paper's main sweep);
      // 'above': c = √(k/(P−1)) + fraction·(1 − √(k/(P−1))), from there to 1 (the sweep form of the
      // authors' k = P − 1 runs: c from √(d/(P−1)) to 1 with k = d).
      range: 'below',
      // Alignments as fractions of the range: 12 from 0 to 1.
      fractions: quick ? [0.5, 1] : Array.from({ length: 12 }, (_, i) => Number((i / 11).toFixed(4))),
      activations: quick ? ['tanh', 'relu'] : Object.keys(PAPER_ACTIVATIONS),
      seeds: quick ? 2 : 10,
      width: 128,
      lr: quick ? 0.1 : PAPER_TRAINING.lr,
      epochs: quick ? 4 : PAPER_TRAINING.epochs,
      samples: quick ? 640 : PAPER_TRAINING.samples,
      stop: PAPER_TRAINING.stop,
      // Kernel alignment every this many epochs (and at the first and last step).
      every: quick ? 2 : PAPER_TRAINING.every,
    }),
    runs: ({ seed, params }) => {
      if (params.range !== 'below' && params.range !== 'above')
        throw new ConfigError('set range', params.range, "'below' (0 to √(k/(P−1))) or 'above' (√(k/(P−1)) to 1)");
      if (params.range === 'above' && params.d.some((d) => spec.cMax(d, 1) >= 1 || spec.cMax(d, d) >= 1))
        throw new ConfigError('set range', 'above', "'below' for a task family whose alignments already reach 1");
      return sweep({
        seed,
        grid: {
          d: params.d,
          targets: params.targets.map((t) => {
            if (t !== 'one' && t !== 'all') throw new ConfigError('set targets', t, "'one' (k = 1) or 'all' (k = d)");
            return t;
          }),
          fraction: params.fractions,
          ...(spec.variant ? { [spec.variant.name]: params.variants } : {}),
          activation: params.activations.map((name) => {
            if (!Object.hasOwn(PAPER_ACTIVATIONS, name))
              throw new ConfigError('set activations', name, Object.keys(PAPER_ACTIVATIONS).join(', '));
            return name;
          }),
        },
        seeds: params.seeds,
        run: (p, seeds) => {
          const k = p.targets === 'one' ? 1 : p.d;
          const cMax = spec.cMax(p.d, k);
          const alignment = Number(
            (params.range === 'above' ? cMax + p.fraction * (1 - cMax) : p.fraction * cMax).toFixed(6),
          );
          return {
            task: spec.task({
              d: p.d,
              k,
              alignment,
              seed: seeds.task,
              variant: spec.variant ? String((p as Record<string, unknown>)[spec.variant.name]) : 'none',
            }),
            network: { activation: PAPER_ACTIVATIONS[p.activation], width: params.width },
            training: {
              lr: params.lr,
              batch: PAPER_TRAINING.batch,
              samples: params.samples,
              epochs: params.epochs,
              checkpoints: { every: params.every * Math.ceil(params.samples / PAPER_TRAINING.batch) },
              stop: { maxParamChange: params.stop },
            },
          };
        },
      });
    },
    // Per network and on the kernel averaged over the ensemble's networks (scope 'ensemble').
    // (The summary below names the variant's column, when there is one, with the other coordinates.)
    process: (ctx) => pipe(train(ctx.train), probe(), geometry({ metrics: ['kernel_alignment'] })),
    summary: {
      title:
        "Final kernel alignment of the ensemble's average hidden kernel (scope ensemble), per grid point, at the lowest, middle and highest alignment; early stops",
      sql: `
        WITH e AS (
          SELECT r.d, r.k, ${v('r.')} r.activation, r.fraction, any_value(r.alignment) AS alignment,
                 avg(f.value) FILTER (WHERE f.against = 'input') AS input,
                 avg(f.value) FILTER (WHERE f.against = 'target') AS target
          FROM final f JOIN (SELECT DISTINCT ensemble_id, d, k, ${v('')} activation, fraction, alignment FROM runs) r
            ON f.run_id = r.ensemble_id
          WHERE f.scope = 'ensemble' AND f.metric = 'kernel_alignment' GROUP BY ALL),
        s AS (
          SELECT d, k, ${v('')} activation, fraction, count(*) AS runs, count(stop_epoch) AS stopped,
                 median(coalesce(stop_epoch, epochs)) AS median_epochs
          FROM runs WHERE status = 'completed' GROUP BY ALL)
        SELECT e.d, e.k, ${v('e.')} e.activation, e.fraction, round(e.alignment, 4) AS alignment, round(e.input, 4) AS input,
               round(e.target, 4) AS target, s.runs, s.stopped, s.median_epochs
        FROM e JOIN s USING (d, k, ${v('')} activation, fraction)
        WHERE e.fraction IN (SELECT min(fraction) FROM runs) OR e.fraction IN (SELECT max(fraction) FROM runs)
           OR e.fraction IN (SELECT arg_min(fraction, abs(fraction - 0.5)) FROM runs)
        ORDER BY e.d, e.k, ${v('e.')} e.activation, e.fraction`,
    },
  });
}
