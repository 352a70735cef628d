/**
 * A pool of training worker threads, each owning a tensor backend (tfjs-wasm is single-threaded:
 * workers are how both cores train). `train({ workers })` sends whole ensembles to it; results are
 * the same as in-process training (each ensemble is trained by the same code from the same seeds).
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TrainedRunSpec as RunSpec } from '../types.js';
import type { TrainEvent } from '../engine/training.js';
import type { JobMessage, POOLED_METRICS, PooledMetric, ReplyMessage as Message } from './jobs.js';
import { portableRun } from './portable.js';
import { fromPortableError } from '../errors.js';

const post = (w: Worker, m: JobMessage) => w.postMessage(m);

/**
 * The worker script: the compiled .js next to this module, or (running from the TypeScript
 * sources) a bootstrap that registers tsx's loader in the worker and imports worker.ts —
 * `--import tsx` in a worker's execArgv does not take effect on Node 20.
 */
function workerScript(): { source: URL | string; eval: boolean } {
  const js = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { source: js, eval: false };
  const ts = new URL('./worker.ts', import.meta.url).href;
  // Resolved here, so the worker finds tsx whatever its working directory.
  const tsx = import.meta.resolve('tsx/esm/api');
  return {
    source: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`,
    eval: true,
  };
}

interface Job {
  id: number;
  push(m: Message): void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  /** The job this worker is running, if any. */
  job: number | null;
}

export class WorkerPool {
  private readonly workers: Slot[] = [];
  private readonly script = workerScript();
  private readonly waiting: Array<() => void> = [];
  /**
   * Set by `geometry({ pool })` when it will send this pool classifier fits: split ensembles
   * would hold every worker for a whole ensemble and leave those fits (and their samples, in
   * memory) waiting, so `runPipeline` does not split then.
   */
  fitsMetrics = false;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;

  constructor(
    readonly size: number,
    private readonly backend?: string,
    private readonly engine?: string,
  ) {
    for (let i = 0; i < size; i++) {
      const slot: Slot = { worker: null as unknown as Worker, busy: false, job: null };
      slot.worker = this.spawn(slot);
      this.workers.push(slot);
    }
  }

  private spawn(slot: Slot): Worker {
    const worker = new Worker(this.script.source, {
      eval: this.script.eval,
      workerData: { backend: this.backend, engine: this.engine },
    });
    worker.on('message', (m: Message) => this.jobs.get(m.id)?.push(m));
    // A crashed worker fails only the job it was running, and is replaced.
    worker.on('error', (e) => {
      if (slot.worker !== worker) return;
      if (slot.job !== null)
        this.jobs.get(slot.job)?.push({ type: 'error', id: slot.job, message: `worker thread crashed: ${e.message}` });
      slot.worker = this.spawn(slot);
    });
    worker.unref();
    return worker;
  }

  /** A free worker, once there is one; null if `signal` aborts first. */
  private async acquire(signal?: AbortSignal): Promise<Slot | null> {
    for (;;) {
      if (signal?.aborted) return null;
      const free = this.workers.find((w) => !w.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      await new Promise<void>((r) => {
        const wake = () => {
          const at = this.waiting.indexOf(wake);
          if (at >= 0) this.waiting.splice(at, 1);
          signal?.removeEventListener('abort', wake);
          r();
        };
        this.waiting.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  private release(w: Slot): void {
    w.busy = false;
    w.job = null;
    this.waiting.shift()?.();
  }

  /**
   * Train one ensemble on a free worker; yields its events as they arrive. `onBackend` reports
   * the worker's backend; `onSteps` progress. When `signal` aborts, the generator ends at once,
   * waiting or training (a worker abandoned mid-ensemble is replaced).
   */
  async *train(
    runs: RunSpec[],
    hooks: { onSteps?: (n: number) => void; onBackend?: (name: string) => void; signal?: AbortSignal } = {},
  ): AsyncGenerator<TrainEvent> {
    const { signal } = hooks;
    const slot = await this.acquire(signal);
    if (!slot) return;
    const id = this.nextId++;
    slot.job = id;
    const queue: Message[] = [];
    let wake: (() => void) | null = null;
    this.jobs.set(id, {
      id,
      push: (m) => {
        queue.push(m);
        wake?.();
        wake = null;
      },
    });
    let finished = false;
    const interrupt = () => {
      wake?.();
      wake = null;
    };
    signal?.addEventListener('abort', interrupt, { once: true });
    try {
      slot.worker.ref();
      post(slot.worker, { type: 'train', id, runs: runs.map(portableRun) });
      for (;;) {
        if (!queue.length && !signal?.aborted)
          await new Promise<void>((r) => {
            wake = r;
          });
        if (signal?.aborted) return;
        const m = queue.shift()!;
        if (m.type === 'steps') hooks.onSteps?.(m.n);
        else if (m.type === 'backend') hooks.onBackend?.(m.backend);
        else if (m.type === 'event') {
          yield m.event;
          post(slot.worker, { type: 'ack', id });
        } else if (m.type === 'error') {
          finished = true;
          throw fromPortableError(m);
        } else {
          finished = true;
          return;
        }
      }
    } finally {
      signal?.removeEventListener('abort', interrupt);
      this.jobs.delete(id);
      if (finished) slot.worker.unref();
      else {
        // Abandoned mid-ensemble: the worker is still training it; replace the worker.
        const old = slot.worker;
        slot.worker = this.spawn(slot);
        void old.terminate();
      }
      this.release(slot);
    }
  }

  /**
   * One of the pooled metric functions (jobs.ts) on a free worker, its arguments copied
   * to it. Resolves with its result; an error (or a crashed worker) rejects only this call.
   */
  async metric<K extends PooledMetric>(
    name: K,
    ...args: Parameters<(typeof POOLED_METRICS)[K]>
  ): Promise<ReturnType<(typeof POOLED_METRICS)[K]>> {
    type R = ReturnType<(typeof POOLED_METRICS)[K]>;
    const slot = (await this.acquire())!;
    const id = this.nextId++;
    slot.job = id;
    try {
      slot.worker.ref();
      return await new Promise<R>((resolve, reject) => {
        this.jobs.set(id, {
          id,
          push: (m) => {
            if (m.type === 'result') resolve(m.value as R);
            else if (m.type === 'error') reject(fromPortableError(m));
          },
        });
        post(slot.worker, { type: 'metric', id, name, args });
      });
    } finally {
      this.jobs.delete(id);
      slot.worker.unref();
      this.release(slot);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
