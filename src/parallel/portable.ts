/**
 * Run specs as plain data, to cross to a worker thread: a `Task` carries sampler functions, which
 * structured cloning drops; the worker rebuilds them from the task's data (the sampler is generic,
 * so the revived task draws exactly the same samples).
 */
import type { TrainedRunSpec as RunSpec, Task } from '../types.js';
import { makeTask } from '../sources/task.js';

export type PortableTask = Omit<Task, 'sample' | 'sampleBalanced'>;
export type PortableRun = Omit<RunSpec, 'task'> & { task: PortableTask };

export function portableRun(run: RunSpec): PortableRun {
  const { sample: _s, sampleBalanced: _b, ...task } = run.task;
  return { ...run, task };
}

export function reviveRun(run: PortableRun): RunSpec {
  const t = run.task;
  return {
    ...run,
    task: makeTask({
      family: t.family,
      params: t.params,
      means: { ...t.means, data: Float64Array.from(t.means.data) },
      targets: t.targets,
      latents: t.latents,
      sigma: t.sigma as number,
      seed: t.seed,
    }),
  };
}
