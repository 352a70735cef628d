/**
 * `geomstream report <results-dir>`: a self-contained HTML page of a results folder — the runs'
 * status, every figure its data support (src/query/figures: Vega-Lite specs rendered to inline SVG
 * in Node, each spec with its data embedded so it can be opened in the Vega editor), and the
 * compact final-values table. The page makes no network request and prints.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../sinks/atomic.js';
import { SCHEMA_VERSION } from '../sinks/manifest.js';
import {
  type AbsentFigure,
  type DatasetView,
  describeDataset,
  type Figure,
  figuresOf,
  type FinalTable,
  finalTable,
  renderSvg,
} from './figures/index.js';
import { escapeHtml } from './html.js';
import { openResults, type ResultsSession } from './results.js';

export interface ReportOptions {
  /** Also write each figure as `<id>.svg` and `<id>.vl.json` into this folder (created if missing). Default: none. */
  figuresDir?: string;
}

/** A figure with its rendered SVG. */
export interface RenderedFigure extends Figure {
  svg: string;
}

const esc = escapeHtml;

/** JSON safe inside a <script> element: no "</script" can close it early. */
const scriptJson = (v: unknown) => JSON.stringify(v).replaceAll('<', '\\u003c');

const fixed = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '');

function checkFolder(dir: string): void {
  if (!existsSync(join(dir, 'metrics')))
    throw new ConfigError(
      'results-dir',
      dir,
      'a geomstream results folder (with metrics/ and runs.parquet), e.g. results/tanh-vs-relu',
    );
  // A folder written by an older geomstream lacks columns the figures read: say so, not a DuckDB binder error.
  for (const f of readdirSync(dir).filter((n) => /^manifest(\..+)?\.json$/.test(n))) {
    let version: unknown;
    try {
      version = JSON.parse(readFileSync(join(dir, f), 'utf8')).schema_version;
    } catch {
      continue; // a manifest being written, or not ours: the views decide
    }
    if (typeof version === 'number' && version !== SCHEMA_VERSION)
      throw new ConfigError(
        'results-dir',
        dir,
        `a results folder of schema ${SCHEMA_VERSION} (${f} says ${version}: written by another geomstream version; rerun the pipeline with --if-exists overwrite)`,
      );
  }
}

function checkFiguresDir(figuresDir: string | undefined): void {
  if (figuresDir !== undefined && existsSync(figuresDir) && !statSync(figuresDir).isDirectory())
    throw new ConfigError('figures-dir', figuresDir, 'a folder (created if missing), not a file');
}

/** The figures of an open results folder, rendered (and, into `absent`, the kinds it cannot support). */
export async function renderFigures(
  session: ResultsSession,
  absent: AbsentFigure[] = [],
  data?: DatasetView,
): Promise<RenderedFigure[]> {
  const figures = await figuresOf(session, absent, data);
  return Promise.all(figures.map(async (f) => ({ ...f, svg: await renderSvg(f.spec) })));
}

function figureSection(f: RenderedFigure): string {
  const json = JSON.stringify(f.spec, null, 1);
  return `<section class="figure" id="${esc(f.id)}">
<h3>${esc(f.title)}</h3>
<p class="caption">${esc(f.caption)}</p>
<div class="svg">${f.svg}</div>
<p class="spec-link"><a download="${esc(f.id)}.vl.json" href="data:application/json;base64,${Buffer.from(json).toString('base64')}">Vega-Lite spec with its data (${esc(f.id)}.vl.json)</a> — open it in the Vega editor, or with altair's <code>alt.Chart.from_dict</code>.</p>
<script type="application/json" class="vega-lite-spec" data-figure="${esc(f.id)}">${scriptJson(f.spec)}</script>
</section>`;
}

function finalTableHtml(t: FinalTable): string {
  const head = `<tr><th>grid point</th><th>activation</th><th>runs</th>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map(
      (r) =>
        `<tr><td>${esc(r.grid)}</td><td>${esc(r.activation)}</td><td class="n">${r.runs}</td>${t.columns
          .map((c) => {
            const cell = r.cells[c];
            return `<td class="n">${cell ? `${fixed(cell.mean)}${cell.n > 1 ? ` ± ${fixed(cell.sd)}` : ''}` : ''}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table class="final">${head}\n${body}</table>`;
}

/** The report page of an open results folder. */
export async function reportHtml(
  session: ResultsSession,
  title: string,
  figures: RenderedFigure[],
  absent: AbsentFigure[] = [],
  data?: DatasetView,
): Promise<string> {
  data ??= await describeDataset(session);
  const status = session.views.has('runs')
    ? (
        await session.query(`SELECT status, backend, count(*)::INTEGER AS runs,
            count(*) FILTER (WHERE converged)::INTEGER AS converged FROM runs GROUP BY ALL ORDER BY ALL`)
      ).rows
    : [];
  const statusRows = status
    .map(
      (r) =>
        `<tr><td>${esc(r.status)}</td><td>${esc(r.backend)}</td><td class="n">${esc(r.runs)}</td><td class="n">${esc(r.converged)}</td></tr>`,
    )
    .join('\n');
  const grid = data.coordinates.map((c) => `${esc(c.name)} ∈ {${c.values.map(esc).join(', ')}}`).join('; ');
  const toc = figures.map((f) => `<li><a href="#${esc(f.id)}">${esc(f.title)}</a></li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>geomstream report: ${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:sans-serif;margin:24px auto;max-width:1280px;padding:0 16px;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.caption{color:#444;max-width:900px}
.svg{overflow-x:auto}.spec-link{font-size:12px;color:#555}section.figure{margin:28px 0}
@media print{.spec-link,nav{display:none}section.figure{break-inside:avoid}body{margin:0}}
</style></head><body>
<h1>geomstream report</h1><p>${esc(title)}${grid ? ` — grid: ${grid}; activations: ${data.activations.map(esc).join(', ')}` : ''}</p>
<h2>Runs</h2><table><tr><th>status</th><th>backend</th><th>runs</th><th>converged</th></tr>${statusRows}</table>
<nav><h2>Figures</h2><ol>${toc}</ol>${
    absent.length
      ? `<p class="caption">Not drawn, for want of data in this folder: ${absent.map((a) => `<b>${esc(a.kind)}</b> (needs ${esc(a.needs)})`).join('; ')}.</p>`
      : ''
  }</nav>
${figures.map(figureSection).join('\n')}
<h2 id="final-values">Final values</h2>
<p class="caption">Mean ± sd over completed seeds of each run's value at its last checkpoint (averaged over a run's dichotomies).</p>
${finalTableHtml(await finalTable(session, data))}
</body></html>
`;
}

/**
 * Build the report of a results folder: writes `<dir>/report.html` (and, with `figuresDir`, each
 * figure's `.svg` and `.vl.json`) and returns the page's path.
 */
export async function report(dir: string, options: ReportOptions = {}): Promise<string> {
  checkFolder(dir);
  checkFiguresDir(options.figuresDir);
  const session = await openResults(dir);
  let html: string;
  let figures: RenderedFigure[];
  try {
    const absent: AbsentFigure[] = [];
    const data = await describeDataset(session); // once: the figures and the page read the same view
    figures = await renderFigures(session, absent, data);
    html = await reportHtml(session, dir, figures, absent, data);
  } finally {
    session.close();
  }
  if (options.figuresDir !== undefined) {
    await mkdir(options.figuresDir, { recursive: true });
    for (const f of figures) {
      await writeFileAtomic(join(options.figuresDir, `${f.id}.svg`), f.svg);
      await writeFileAtomic(join(options.figuresDir, `${f.id}.vl.json`), `${JSON.stringify(f.spec, null, 1)}\n`);
    }
  }
  const path = join(dir, 'report.html');
  await writeFileAtomic(path, html);
  return path;
}
