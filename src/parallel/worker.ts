/**
 * A worker thread of `WorkerPool` (pool.ts): trains the ensembles it is sent, on its own tensor
 * backend (loaded at its first ensemble), posting their events back; or runs a pooled metric
 * (jobs.ts) and posts its result. Never imported by the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../engine/backend.js';
import { trainEnsemble } from '../engine/training.js';
import { reviveRun } from './portable.js';
import { EVENTS_IN_FLIGHT, POOLED_METRICS, type JobMessage } from './jobs.js';
import { toPortableError } from '../errors.js';

const port = parentPort!;
let ready: ReturnType<typeof initBackend> | null = null;
/** Per training job: events posted and not yet taken, and who waits for the next ack. */
const inFlight = new Map<number, { n: number; wake: (() => void) | null }>();

port.on('message', async (msg: JobMessage | { type: 'close' }) => {
  if (msg.type === 'close') {
    port.close();
    return;
  }
  const { id } = msg;
  if (msg.type === 'ack') {
    const f = inFlight.get(id);
    if (f) {
      f.n--;
      f.wake?.();
      f.wake = null;
    }
    return;
  }
  if (msg.type === 'metric') {
    try {
      const fn = POOLED_METRICS[msg.name] as (...args: unknown[]) => unknown;
      port.postMessage({ type: 'result', id, value: fn(...msg.args) });
    } catch (e) {
      port.postMessage({ type: 'error', id, ...toPortableError(e) });
    }
    return;
  }
  try {
    const backend = await (ready ??= initBackend((workerData as { backend?: string }).backend));
    port.postMessage({ type: 'backend', id, backend });
    const runs = msg.runs.map(reviveRun);
    const engine = (workerData as { engine?: string }).engine;
    const flight = { n: 0, wake: null as (() => void) | null };
    inFlight.set(id, flight);
    for await (const event of trainEnsemble(runs, {
      engine,
      onSteps: (n) => port.postMessage({ type: 'steps', id, n }),
    })) {
      const transfer =
        event.type === 'checkpoint'
          ? event.members.flatMap((m) => [
              m.params.W.buffer,
              m.params.b1.buffer,
              m.params.J.buffer,
              m.params.b2.buffer,
              ...(m.params.layers ?? []).flatMap((l) => [l.W.buffer, l.b.buffer]),
            ])
          : [];
      // Node drops, without a word, a message whose transfer list holds a detached buffer (one
      // already sent): that would lose a checkpoint, so it is an error here.
      if (transfer.some((b) => b.byteLength === 0) || new Set(transfer).size !== transfer.length)
        throw new Error(
          `worker: a checkpoint at step ${event.type === 'checkpoint' ? event.step : '?'} reuses arrays already sent`,
        );
      port.postMessage({ type: 'event', id, event }, transfer as ArrayBuffer[]);
      flight.n++;
      while (flight.n >= EVENTS_IN_FLIGHT)
        await new Promise<void>((r) => {
          flight.wake = r;
        });
    }
    port.postMessage({ type: 'done', id });
  } catch (e) {
    port.postMessage({ type: 'error', id, ...toPortableError(e) });
  } finally {
    inFlight.delete(id);
  }
});
