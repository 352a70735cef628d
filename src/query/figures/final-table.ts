/**
 * The compact final-values table: one row per grid point (its coordinates and activation), one
 * column per metric family, each cell the mean ± sd over completed seeds of the runs' final
 * values (averaged over dichotomies within a run where a family has several).
 */
import type { ResultsSession } from '../results.js';
import { ACTIVATION, type DatasetView, familyValues, groupLabel, ident, metricLabel, seedStats } from './dataset.js';

export interface FinalTable {
  columns: string[];
  rows: Array<{
    grid: string;
    activation: string;
    runs: number;
    cells: Record<string, { mean: number; sd: number; n: number }>;
  }>;
}

export async function finalTable(session: ResultsSession, data: DatasetView): Promise<FinalTable> {
  const columns = data.metrics.map(metricLabel);
  const byPoint = new Map<string, FinalTable['rows'][number] & { key: Array<number | string> }>();
  if (!data.views.has('runs')) return { columns, rows: [] };
  for (const k of data.metrics) {
    const rows = (
      await session.query(`
      SELECT ${groupLabel(data.coordinates)} AS grid, ${ACTIVATION} AS activation,
             ${data.coordinates.map((c, i) => `r.${ident(c.name)} AS c${i},`).join(' ')}
             ${seedStats('v.value')}
      FROM (${familyValues(k, 'final')}) v JOIN runs r USING (run_id)
      WHERE r.status = 'completed' GROUP BY ALL`)
    ).rows;
    for (const r of rows) {
      const id = `${r.grid}\u0000${r.activation}`;
      if (!byPoint.has(id))
        byPoint.set(id, {
          grid: String(r.grid),
          activation: String(r.activation),
          runs: 0,
          cells: {},
          key: data.coordinates.map((_, i) => r[`c${i}`] as number | string),
        });
      const point = byPoint.get(id)!;
      point.cells[metricLabel(k)] = { mean: r.mean as number, sd: r.sd as number, n: r.n as number };
      point.runs = Math.max(point.runs, r.n as number);
    }
  }
  // Rows in the order of the grid's values (numbers as numbers), then of the activations.
  const compare = (x: number | string, y: number | string) =>
    typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
  const order = (a: string) => data.activations.indexOf(a);
  const rows = [...byPoint.values()]
    .sort(
      (a, b) =>
        a.key.reduce<number>((c, x, i) => c || compare(x, b.key[i]), 0) || order(a.activation) - order(b.activation),
    )
    .map(({ key: _, ...row }) => row);
  return { columns, rows };
}
