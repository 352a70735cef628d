/**
 * A small SVG line chart, for `geomstream report`: series of (x, y) points, optional log-scaled x,
 * axes with a few ticks, a legend. Pure string building; no dependencies.
 */

export interface Series {
  label: string;
  points: Array<[number, number]>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** log10(1 + x) on the x axis (training steps). Default false. */
  logX?: boolean;
  /** Title of the legend (e.g. the names of the grid coordinates). */
  legendTitle?: string;
  width?: number;
  height?: number;
}

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

function escapeXml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / n));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= n) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-12; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

/** Render series as an SVG line chart. */
export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 520,
    H = o.height ?? 300;
  const m = { left: 56, right: 200, top: 28, bottom: 44 };
  const tx = (x: number) => (o.logX ? Math.log10(1 + Math.max(x, 0)) : x);
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (!all.length) return '';
  let [x0, x1] = [Math.min(...all.map((p) => tx(p[0]))), Math.max(...all.map((p) => tx(p[0])))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x1 === x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const px = (x: number) => m.left + ((tx(x) - x0) / (x1 - x0)) * (W - m.left - m.right);
  const py = (y: number) => H - m.bottom - ((y - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<text x="${m.left}" y="16" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
  parts.push(`<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="#333"/>`);
  parts.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${H - m.bottom}" stroke="#333"/>`);
  for (const v of ticks(y0, y1)) {
    parts.push(`<line x1="${m.left - 4}" y1="${py(v)}" x2="${W - m.right}" y2="${py(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${py(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  // Log axis: ticks at 0, 1, 10, 100, … (positions log10(1 + x)).
  const xt = o.logX
    ? [0, ...Array.from({ length: 12 }, (_, k) => 10 ** k)].filter((v) => tx(v) >= x0 - 1e-9 && tx(v) <= x1 + 1e-9)
    : ticks(x0, x1);
  for (const v of xt) parts.push(`<text x="${px(v)}" y="${H - m.bottom + 14}" text-anchor="middle">${fmt(v)}</text>`);
  parts.push(
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(o.xLabel)}${o.logX ? ' (log scale)' : ''}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );
  if (o.legendTitle)
    parts.push(`<text x="${W - m.right + 10}" y="${m.top + 8}" fill="#555">${escapeXml(o.legendTitle)}</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    if (!pts.length) return;
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [x, y] of pts)
      parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2" fill="${color}"/>`);
    const ly = m.top + 22 + i * 14;
    parts.push(
      `<line x1="${W - m.right + 10}" y1="${ly}" x2="${W - m.right + 26}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(
      `<text x="${W - m.right + 30}" y="${ly + 4}">${escapeXml(s.label.length > 30 ? `${s.label.slice(0, 29)}…` : s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
