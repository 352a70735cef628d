/**
 * The live page's HTML: progress and run counts, and one over-training figure per metric family,
 * drawn in the browser by Vega and Vega-Lite (served by the same local server, never fetched from
 * the network) and redrawn on every server-sent `state` event.
 */
import { escapeHtml } from '../query/html.js';

/** The page for a pipeline named `title`. */
export function livePageHtml(title: string): string {
  const esc = escapeHtml;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>geomstream live: ${esc(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}#status{font-variant-numeric:tabular-nums}
section{margin:20px 0}.done{color:#2a7a2a}.stopped{color:#a33}</style>
<script src="/vega.js"></script><script src="/vega-lite.js"></script></head><body>
<h1>geomstream live: ${esc(title)}</h1>
<p id="status">waiting for the first checkpoint…</p>
<div id="figures"></div>
<script>
const views = new Map();
const shown = new Map();
function status(s) {
  const p = s.progress;
  const pct = p.total ? ' (' + (100 * p.done / p.total).toFixed(1) + ' %)' : '';
  const runs = Object.entries(s.runs.byStatus).map(([k, v]) => v + ' ' + k).join(', ') || 'none done yet';
  const steps = p.total ? 'network-steps ' + p.done + ' of ' + p.total + pct + ' · ' : '';
  const total = s.runs.total ? ' of ' + s.runs.total : '';
  document.getElementById('status').textContent =
    steps + 'runs: ' + runs + total + ' · ' + s.rows + ' metric rows' + (s.finished ? ' · ' + s.finished : '');
  if (s.finished) {
    document.getElementById('status').className = s.finished === 'finished' ? 'done' : 'stopped';
    document.body.dataset.finished = s.finished;
  }
}
async function draw(fig) {
  const json = JSON.stringify(fig.spec);
  if (shown.get(fig.id) === json) return;
  shown.set(fig.id, json);
  let section = document.getElementById(fig.id);
  if (!section) {
    section = document.createElement('section');
    section.id = fig.id;
    section.className = 'figure';
    section.innerHTML = '<h3></h3><div class="view"></div>';
    section.querySelector('h3').textContent = fig.title;
    document.getElementById('figures').appendChild(section);
  }
  views.get(fig.id)?.finalize();
  const view = new vega.View(vega.parse(vegaLite.compile(fig.spec).spec), {
    renderer: 'svg', container: section.querySelector('.view'), hover: true });
  views.set(fig.id, view);
  await view.runAsync();
}
const events = new EventSource('/events');
events.addEventListener('state', async (e) => {
  const s = JSON.parse(e.data);
  status(s);
  for (const fig of s.figures) await draw(fig);
  document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  if (s.finished) events.close();
});
</script>
</body></html>
`;
}
