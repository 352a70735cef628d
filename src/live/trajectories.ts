/**
 * The live page's figures, from the records as they stream by (no files, no DuckDB): each metric
 * family's value per run and checkpoint (averaged over its dichotomies), summarised over the runs
 * of each grid point as mean ± sd — the same numbers as the report's over-training figures, from
 * the grid point's ensemble id ('alignment=0.25,activation=tanh': the activation is the colour,
 * the rest the panel).
 */
import type { MetricRow, StreamRecord } from '../types.js';
import { metricLabel } from '../query/figures/dataset.js';

/** One (panel, activation, step) point of a family: mean, sd and count over runs. */
export interface TrajectoryPoint {
  facet: string;
  activation: string;
  step: number;
  mean: number;
  sd: number;
  lo: number;
  hi: number;
  n: number;
}

/** A grid point's panel and colour from its ensemble id. */
export function gridPoint(ensembleId: string): { facet: string; activation: string } {
  if (!ensembleId.includes('=')) return { facet: ensembleId, activation: 'network' };
  const parts = ensembleId.split(',');
  const act = parts.find((p) => p.startsWith('activation='));
  const rest = parts.filter((p) => p !== act);
  return {
    facet: rest.length ? rest.join(', ') : 'all runs',
    activation: act ? act.slice('activation='.length) : 'network',
  };
}

/** The report's family of a row (its metricLabel), so the live figures have the report's ids and titles. */
const familyOf = (m: MetricRow) =>
  metricLabel({
    ...m,
    dichotomies:
      m.dichotomy === null
        ? null
        : m.dichotomy.startsWith('target')
          ? 'target'
          : m.dichotomy.startsWith('latent')
            ? 'latent'
            : 'other',
  });

/** Accumulates metric rows; `points()` gives the current trajectories of every family. */
export class LiveTrajectories {
  /** family → run → step → (sum, count) of the run's dichotomy values. */
  private readonly values = new Map<string, Map<string, Map<number, { sum: number; n: number }>>>();
  private readonly ensembles = new Map<string, string>();
  private readonly activations: string[] = [];
  /** Metric rows taken in. */
  rows = 0;

  add(record: StreamRecord): void {
    if (record.kind !== 'metric' || record.scope !== 'run' || !Number.isFinite(record.value)) return;
    this.rows++;
    const family = familyOf(record);
    if (!this.values.has(family)) this.values.set(family, new Map());
    const runs = this.values.get(family)!;
    if (!runs.has(record.run_id)) runs.set(record.run_id, new Map());
    const steps = runs.get(record.run_id)!;
    const cell = steps.get(record.step) ?? { sum: 0, n: 0 };
    cell.sum += record.value;
    cell.n++;
    steps.set(record.step, cell);
    if (!this.ensembles.has(record.run_id)) {
      this.ensembles.set(record.run_id, record.ensemble_id);
      const { activation } = gridPoint(record.ensemble_id);
      if (!this.activations.includes(activation)) this.activations.push(activation);
    }
  }

  /** Activations in the order they first appeared (the colour domain). */
  activationOrder(): string[] {
    return [...this.activations];
  }

  /** Families with points at two checkpoints or more, each with its (panel, activation, step) points. */
  points(): Map<string, TrajectoryPoint[]> {
    const out = new Map<string, TrajectoryPoint[]>();
    for (const [family, runs] of this.values) {
      const groups = new Map<string, { facet: string; activation: string; step: number; xs: number[] }>();
      const allSteps = new Set<number>();
      for (const [run, steps] of runs) {
        const g = gridPoint(this.ensembles.get(run)!);
        for (const [step, { sum, n }] of steps) {
          allSteps.add(step);
          const key = `${g.facet}\u0000${g.activation}\u0000${step}`;
          if (!groups.has(key)) groups.set(key, { ...g, step, xs: [] });
          groups.get(key)!.xs.push(sum / n);
        }
      }
      if (allSteps.size < 2) continue;
      out.set(
        family,
        [...groups.values()].map(({ facet, activation, step, xs }) => {
          const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
          const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
          return { facet, activation, step, mean, sd, lo: mean - sd, hi: mean + sd, n: xs.length };
        }),
      );
    }
    return out;
  }
}
