/**
 * `--live [port]`: a page on 127.0.0.1 where the over-training figures of a running pipeline grow
 * as checkpoints arrive. Fed by the records on their way to the sinks (`update`), pushed to the
 * browser as server-sent events at most every `interval` ms; it stops with the pipeline.
 *
 * Loopback only: the server listens on 127.0.0.1, and refuses (403) any request that does not
 * come from a loopback address or names another host (a DNS-rebinding page cannot read it).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.js';
import type { StreamRecord } from '../types.js';
import { figureId } from '../query/figures/dataset.js';
import { overTrainingSpec } from '../query/figures/over-training.js';
import { livePageHtml } from './page.js';
import { LiveTrajectories } from './trajectories.js';

export interface LivePageOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** The pipeline's name, the page's title. */
  title: string;
  /** Least time between two pushes to the browser, in ms. Default 500. */
  interval?: number;
}

export interface LivePage {
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** A record on its way to the sinks. */
  update(record: StreamRecord): void;
  /** Network-steps done and in total. */
  progress(done: number, total: number): void;
  /** Runs to train in all (known once the pipeline starts). */
  runsTotal(total: number): void;
  /** The pipeline stopped: a last push with `how` ('finished', 'interrupted', 'failed: …'), then the server closes. */
  close(how: string): Promise<void>;
}

/** The state pushed to the page. */
interface LiveState {
  progress: { done: number; total: number };
  runs: { total: number; byStatus: Record<string, number> };
  rows: number;
  finished: string | null;
  figures: Array<{ id: string; title: string; spec: unknown }>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function vegaScripts(): Record<string, string> {
  const require = createRequire(import.meta.url);
  // The packages' own browser builds, next to their Node entry points.
  return {
    '/vega.js': join(dirname(require.resolve('vega')), 'vega.min.js'),
    '/vega-lite.js': join(dirname(require.resolve('vega-lite')), 'vega-lite.min.js'),
  };
}

/** The port of `--live [port]`: an integer 0–65535 (0: any free port). */
export function livePort(value: unknown): number {
  const port = value === true || value === undefined ? 0 : /^\d{1,5}$/.test(String(value)) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535))
    throw new ConfigError('live', value, 'a TCP port 0–65535 (0 or none: any free port), e.g. --live 8740');
  return port;
}

/** Start the live page's server; resolves once it listens. */
export async function startLivePage(options: LivePageOptions): Promise<LivePage> {
  const interval = options.interval ?? 500;
  const scripts = vegaScripts();
  const body = new Map(Object.entries(scripts).map(([route, path]) => [route, readFileSync(path)]));
  const trajectories = new LiveTrajectories();
  const state: Omit<LiveState, 'figures' | 'rows'> = {
    progress: { done: 0, total: 0 },
    runs: { total: 0, byStatus: {} },
    finished: null,
  };
  const clients = new Set<ServerResponse>();
  let port = 0;

  const snapshot = (): LiveState => ({
    ...state,
    rows: trajectories.rows,
    figures: [...trajectories.points()].map(([family, values]) => ({
      id: figureId('over-training', family),
      title: `${family} over training`,
      spec: overTrainingSpec(values as unknown as Record<string, unknown>[], family, trajectories.activationOrder()),
    })),
  });
  const send = (res: ServerResponse, s: LiveState) => res.write(`event: state\ndata: ${JSON.stringify(s)}\n\n`);
  let timer: NodeJS.Timeout | null = null;
  let dirty = false;
  const push = () => {
    timer = null;
    if (!dirty || !clients.size) return;
    dirty = false;
    const s = snapshot();
    for (const c of clients) send(c, s);
  };
  const changed = () => {
    dirty = true;
    if (!timer && clients.size) timer = setTimeout(push, interval);
  };

  const refuse = (res: ServerResponse, why: string) => {
    res.writeHead(403, { 'content-type': 'text/plain' }).end(`geomstream live: ${why}\n`);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (!LOOPBACK.test(req.socket.remoteAddress ?? '')) return refuse(res, 'loopback connections only');
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return refuse(res, `unexpected host ${host}`);
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return res.writeHead(405).end();
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(livePageHtml(options.title));
    }
    if (body.has(path)) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      return res.end(body.get(path));
    }
    if (path === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      clients.add(res);
      req.on('close', () => clients.delete(res));
      send(res, snapshot());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new ConfigError('live', options.port, `a free TCP port (${options.port} is in use), or 0 for any`)
          : e,
      ),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/`,
    update(record) {
      if (record.kind === 'run') {
        state.runs.byStatus[record.status] = (state.runs.byStatus[record.status] ?? 0) + 1;
        changed();
      } else if (record.kind === 'metric') {
        trajectories.add(record);
        changed();
      }
    },
    progress(done, total) {
      state.progress = { done, total };
      changed();
    },
    runsTotal(total) {
      state.runs.total = total;
      changed();
    },
    async close(how) {
      if (timer) clearTimeout(timer);
      state.finished = how;
      const s = snapshot();
      for (const c of clients) {
        send(c, s);
        c.end();
      }
      clients.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
