/**
 * The pages in a real browser (headless Chromium; `.ci/run` installs Debian's, elsewhere the test
 * is skipped unless CI is set): the report of the default and the weight-dynamics pipelines opens
 * with no console error and no request beyond the file, every figure has marks, and a screenshot
 * goes to test-artifacts/; the live page's figures grow while a pipeline runs, and its server
 * answers loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '../scripts/chromium.js';
import { runPipeline } from '../src/index.js';
import { report } from '../src/query/report.js';
import { queryResults } from '../src/query/results.js';
import defaultPipeline from '../pipelines/tanh-vs-relu.js';
import weightDynamics from '../pipelines/weight-dynamics.js';

const available = hasChromium();
if (!available && process.env.CI) throw new Error(`Chromium is required in CI: ${CHROMIUM} not found`);

const ROOT = join(import.meta.dirname, '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const out = mkdtempSync(join(tmpdir(), 'geomstream-browser-'));
let browser: Browser;

beforeAll(async () => {
  if (!available) return;
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  rmSync(out, { recursive: true, force: true });
});

/** Console errors, uncaught errors, failed requests and requests to anything but `allowed`. */
function watch(page: Page, allowed: (url: string) => boolean) {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()}`));
  page.on('request', (r) => {
    if (!allowed(r.url()) && !r.url().startsWith('data:')) problems.push(`request: ${r.url()}`);
  });
  return problems;
}

/** Drawn data marks in each figure section (Vega's SVG: an element per item, in groups of class role-mark). */
const marksPerFigure = (page: Page) =>
  page.$$eval('section.figure', (sections) =>
    sections.map((s) => ({
      id: s.id,
      // role-mark: the data's marks, not the axes' ticks and grid (which are rule marks too).
      marks: s.querySelectorAll('g.role-mark path, g.role-mark line').length,
    })),
  );

describe.skipIf(!available)('report.html in Chromium', () => {
  for (const [name, pipeline] of [
    ['tanh-vs-relu', defaultPipeline],
    ['weight-dynamics', weightDynamics],
  ] as const) {
    it(`${name}: opens cleanly, every figure drawn`, async () => {
      const { dir } = await runPipeline(pipeline, { out, quick: true });
      const file = pathToFileURL(await report(dir)).href;
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      const problems = watch(page, (url) => url === file);
      await page.goto(file, { waitUntil: 'load' });
      const figures = await marksPerFigure(page);
      expect(figures.length).toBeGreaterThanOrEqual(name === 'tanh-vs-relu' ? 8 : 7);
      for (const f of figures) expect(f.marks, f.id).toBeGreaterThan(0);
      if (name === 'tanh-vs-relu') expect(figures.map((f) => f.id)).toContain('sweep-kernel-alignment');
      else expect(figures.map((f) => f.id)).toContain('mechanism');
      await page.screenshot({ path: join(ARTIFACTS, `report-${name}.png`), fullPage: true });
      expect(problems).toEqual([]);
      await page.close();
    });
  }
});

/** The CLI running the paced pipeline with --live; resolves with its URL once it prints it. */
function startLive(
  name: string,
): Promise<{ url: string; done: Promise<number | null>; stderr: () => string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'geomstream.js'),
      'run',
      join(ROOT, 'test', 'paced-pipeline.ts'),
      '--out',
      join(out, name),
      '--live',
      '--no-progress',
      '--workers',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  const done = new Promise<number | null>((r) => child.on('exit', r));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /live page at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
      if (m) resolve({ url: m[1], done, stderr: () => err, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`geomstream exited (${code}) before serving: ${err}`)));
  });
}

const symbolPoints = (page: Page) => page.$$eval('section.figure g.mark-symbol.role-mark path', (p) => p.length);

describe.skipIf(!available)('the live page', () => {
  it('grows while the pipeline runs, and stops with it', async () => {
    const live = await startLive('grows');
    const page = await browser.newPage();
    const origin = new URL(live.url).origin;
    const problems = watch(page, (url) => url.startsWith(origin));
    await page.goto(live.url);
    // Sample the page until the pipeline says it finished: the points must grow before that.
    const samples: Array<{ points: number; status: string }> = [];
    const deadline = Date.now() + 90_000;
    for (;;) {
      const status = (await page.getAttribute('body', 'data-finished')) ?? 'running';
      samples.push({ points: await symbolPoints(page), status });
      if (status !== 'running' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const running = samples.filter((x) => x.status === 'running' && x.points > 0).map((x) => x.points);
    expect(running.length).toBeGreaterThan(1);
    expect(Math.max(...running)).toBeGreaterThan(Math.min(...running));
    expect(await live.done).toBe(0);
    expect(await page.textContent('#status')).toMatch(/runs: 8 completed of 8/);
    // Once every run is in: a point per metric family, grid point and checkpoint of the files written.
    const { rows } = await queryResults(
      join(out, 'grows', 'paced'),
      `SELECT count(DISTINCT (metric, against, layer, ensemble_id, step))::INTEGER AS n FROM metrics WHERE scope = 'run'`,
    );
    expect(await symbolPoints(page)).toBe(rows[0].n);
    await page.screenshot({ path: join(ARTIFACTS, 'live-page.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('answers loopback connections only', async () => {
    const live = await startLive('loopback');
    const port = Number(new URL(live.url).port);
    // Another interface of this machine: the server does not listen there.
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (outside) {
      const refused = await new Promise<string>((resolve) => {
        const s = connect(port, outside);
        s.on('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      expect(refused).toBe('ECONNREFUSED');
    }
    // A page of another site reaching 127.0.0.1 through its own name (DNS rebinding) is refused too.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: `evil.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
    live.stop();
    expect(await live.done).toBe(3); // interrupted: the page goes with the process
  });
});

describe('--live [port]', () => {
  it('takes a port number 0–65535 only', async () => {
    const { livePort } = await import('../src/live/server.js');
    expect(livePort(true)).toBe(0);
    expect(livePort('8740')).toBe(8740);
    for (const bad of ['', ' ', '0x10', '1e3', '-1', '65536', 'pipelines/x.ts'])
      expect(() => livePort(bad), bad).toThrow(/live: received .*; accepted: a TCP port 0–65535/);
  });
});
