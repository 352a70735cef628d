/**
 * `geomstream report <results-dir>`: a self-contained HTML page (inline SVG) of a results folder —
 * each metric's trajectory over training (mean over seeds, one line per grid point), the final
 * values of every metric (mean ± sd over seeds), the neurons' intra-class share when weight
 * dynamics were recorded, and the runs' status. Read with the embedded DuckDB.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../sinks/atomic.js';
import { queryResults } from './results.js';
import { lineChart, type Series } from './svg.js';

/**
 * Legend labels for grid points: ensemble ids are 'name=value,name=value'; show the values only
 * ('0.1637, tanh') and the names once, as the legend's title.
 */
function legend(ids: string[]): { title: string; label: (id: string) => string } {
  const names = ids[0]?.includes('=') ? ids[0].split(',').map((kv) => kv.split('=')[0]) : [];
  return {
    title: names.join(', '),
    label: (id) =>
      id.includes('=')
        ? id
            .split(',')
            .map((kv) => kv.slice(kv.indexOf('=') + 1))
            .join(', ')
        : id,
  };
}

/** One line per grid point (ensemble) of (step, row[value]) points, with legend labels. */
function byEnsemble(rows: Record<string, unknown>[], value: string): { series: Series[]; title: string } {
  const names = legend(rows.map((r) => String(r.ensemble_id)));
  const lines = new Map<string, Series>();
  for (const r of rows) {
    const id = String(r.ensemble_id);
    if (!lines.has(id)) lines.set(id, { label: names.label(id), points: [] });
    lines.get(id)!.points.push([num(r.step), num(r[value])]);
  }
  return { series: [...lines.values()], title: names.title };
}

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : NaN);

function keyOf(r: Record<string, unknown>): string {
  return [r.metric, r.against, r.dichotomy, r.classifier].filter((v) => v !== null && v !== undefined).join(' · ');
}

/** Build the report of a results folder; writes `<dir>/report.html` and returns its path. */
export async function report(dir: string): Promise<string> {
  if (!existsSync(join(dir, 'metrics'))) {
    throw new ConfigError(
      'results-dir',
      dir,
      'a geomstream results folder (with metrics/ and runs.parquet), e.g. results/tanh-vs-relu',
    );
  }
  const q = (sql: string) => queryResults(dir, sql);
  const status = (await q('SELECT status, backend, count(*)::INTEGER AS runs FROM runs GROUP BY ALL ORDER BY ALL'))
    .rows;
  const series = (
    await q(`
    SELECT metric, against, dichotomy, classifier, layer, ensemble_id, step, avg(value) AS value, count(*)::INTEGER AS n
    FROM metrics WHERE scope = 'run' GROUP BY ALL ORDER BY metric, against, dichotomy, classifier, layer, ensemble_id, step`)
  ).rows;
  const final = (
    await q(`
    SELECT m.metric, m.against, m.dichotomy, m.classifier, m.layer, m.ensemble_id,
           avg(m.value) AS mean, stddev_samp(m.value) AS sd, count(*)::INTEGER AS n
    FROM metrics m JOIN runs r USING (run_id)
    WHERE m.scope = 'run' AND m.step = r.steps AND r.status = 'completed'
    GROUP BY ALL ORDER BY ALL`)
  ).rows;

  const charts: string[] = [];
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const r of series) {
    const key = `${keyOf(r)}${num(r.layer) > 1 ? ` · layer ${r.layer}` : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, rows] of groups) {
    // Metrics computed only at the final step have no trajectory: they are in the table below.
    if (new Set(rows.map((r) => num(r.step))).size < 2) continue;
    const { series: lines, title } = byEnsemble(rows, 'value');
    charts.push(
      lineChart(lines, { title: key, xLabel: 'step', yLabel: 'mean over seeds', logX: true, legendTitle: title }),
    );
  }
  if (existsSync(join(dir, 'neurons'))) {
    const share = (
      await q(`
      SELECT ensemble_id, step, avg(abs(intra) / nullif(abs(inter) + abs(intra), 0)) AS share
      FROM neurons n JOIN runs r USING (run_id) GROUP BY ALL ORDER BY ALL`)
    ).rows;
    const { series: lines, title } = byEnsemble(share, 'share');
    charts.push(
      lineChart(lines, {
        title: 'intra-class share (first layer)',
        xLabel: 'step',
        yLabel: '|intra| / (|inter| + |intra|)',
        logX: true,
        legendTitle: title,
      }),
    );
  }

  const finalRows = final
    .map(
      (r) =>
        `<tr><td>${esc(keyOf(r))}${num(r.layer) > 1 ? ` · layer ${esc(r.layer)}` : ''}</td><td>${esc(r.ensemble_id)}</td>` +
        `<td class="n">${num(r.mean).toFixed(4)}</td><td class="n">${Number.isFinite(num(r.sd)) ? num(r.sd).toFixed(4) : ''}</td><td class="n">${esc(r.n)}</td></tr>`,
    )
    .join('\n');
  const statusRows = status
    .map((r) => `<tr><td>${esc(r.status)}</td><td>${esc(r.backend)}</td><td class="n">${esc(r.runs)}</td></tr>`)
    .join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>geomstream report: ${esc(dir)}</title>
<style>body{font-family:sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse;font-size:13px}
td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:12px}</style></head><body>
<h1>geomstream report</h1><p>${esc(dir)}</p>
<h2>Runs</h2><table><tr><th>status</th><th>backend</th><th>runs</th></tr>${statusRows}</table>
<h2>Over training</h2><div class="charts">${charts.join('\n')}</div>
<h2>Final values (mean and sd over completed seeds, at each run's last step)</h2>
<table><tr><th>metric</th><th>grid point</th><th>mean</th><th>sd</th><th>runs</th></tr>${finalRows}</table>
</body></html>
`;
  const path = join(dir, 'report.html');
  await writeFileAtomic(path, html);
  return path;
}
