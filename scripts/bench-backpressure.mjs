#!/usr/bin/env node
// Backpressure measurement (BENCHMARKS.md, "Backpressure"): peak RSS of `geomstream run` streaming
// every metric row (--stream -) to a reader that keeps up, and to one that sleeps after each
// record batch so that it is about ten times slower than training. Usage:
//   node scripts/bench-backpressure.mjs [pipeline] [delay-ms]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pipeline = process.argv[2] ?? 'bench/pipelines/many-checkpoints.ts';
const delayArg = process.argv[3];

function rss(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function once(delayMs) {
  const out = mkdtempSync(join(tmpdir(), 'geomstream-bp-'));
  const reader = `
import sys, time, pyarrow.ipc as ipc
rows = batches = 0
for b in ipc.open_stream(sys.stdin.buffer):
    rows += b.num_rows; batches += 1
    if ${delayMs} > 0: time.sleep(${delayMs} / 1000)
print(rows, batches)`;
  const started = Date.now();
  const gs = spawn(
    'node',
    ['bin/geomstream.js', 'run', pipeline, '--out', out, '--workers', '1', '--no-progress', '--stream', '-'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const py = spawn('python3', ['-c', reader], { stdio: ['pipe', 'pipe', 'inherit'] });
  gs.stdout.pipe(py.stdin);
  let counted = '';
  py.stdout.on('data', (d) => {
    counted += d;
  });
  // The CLI re-executes node with the tsx loader: sample the whole process tree's largest VmHWM.
  let peak = 0;
  const samples = []; // current RSS of the largest process, over time
  const tree = () => {
    const pids = [gs.pid];
    try {
      for (const line of readFileSync(`/proc/${gs.pid}/task/${gs.pid}/children`, 'utf8').split(/\s+/).filter(Boolean))
        pids.push(Number(line));
    } catch {
      /* gone */
    }
    let now = 0;
    for (const p of pids) {
      peak = Math.max(peak, rss(p, 'VmHWM') ?? 0);
      now = Math.max(now, rss(p, 'VmRSS') ?? 0);
    }
    if (now) samples.push(now);
  };
  const timer = setInterval(tree, 200);
  await Promise.all([new Promise((r) => gs.once('exit', r)), new Promise((r) => py.once('exit', r))]);
  clearInterval(timer);
  rmSync(out, { recursive: true, force: true });
  const [rows, batches] = counted.trim().split(' ').map(Number);
  // RSS at each fifth of the run: flat when training waits for the reader, rising when rows pile up.
  const fifths = [1, 2, 3, 4, 5].map((k) =>
    Math.round(samples[Math.min(samples.length - 1, Math.floor((k * samples.length) / 5) - 1)] ?? 0),
  );
  return {
    delayMs,
    seconds: (Date.now() - started) / 1000,
    peakMb: Math.round(peak),
    rssByFifthMb: fifths,
    rows,
    batches,
  };
}

const fast = await once(0);
console.log(JSON.stringify(fast));
// About ten times slower than training: the fast run's duration × 10 spread over its batches.
const delay =
  delayArg !== undefined ? Number(delayArg) : Math.max(1, Math.round((fast.seconds * 1000 * 10) / fast.batches));
const slow = await once(delay);
console.log(JSON.stringify(slow));
console.log(
  `peak RSS: ${fast.peakMb} MB with a reader that keeps up, ${slow.peakMb} MB with one ${delay} ms per batch (${(slow.seconds / fast.seconds).toFixed(1)}× the wall time)`,
);
