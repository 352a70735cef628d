/**
 * Which shard of a pipeline this process writes (`--shard i/n | auto`, `--shards n`), from the
 * batch engine's environment when asked or when its variables are present: Slurm array jobs
 * (`SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or `SLURM_ARRAY_TASK_MIN`/`MAX`; arrays may
 * start at any index; with a count given by `--shards` or `GEOMSTREAM_SHARDS`, the task id is the
 * shard index, so one task resubmitted alone keeps its shard) and Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`, with the count from
 * `--shards` or `GEOMSTREAM_SHARDS`: the Job's completions are not in its pods' environment).
 */
import { ConfigError } from '../errors.js';
import type { Shard } from '../sinks/dataset.js';

/** A shard and where it came from (for the log line). */
export interface ShardChoice {
  shard: Shard;
  from: string;
}

const int = (field: string, v: string | undefined, min: number): number => {
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isInteger(n) || n < min)
    throw new ConfigError(field, v ?? null, `an integer >= ${min}`);
  return n;
};

/**
 * The shard to write: `option` is `--shard` ('auto', 'i/n' already parsed, or undefined), `shards`
 * is `--shards`. Without `--shard`, the environment decides when it names a shard; else none.
 */
export function resolveShard(
  option: Shard | 'auto' | undefined,
  shards: number | undefined,
  env: NodeJS.ProcessEnv,
): ShardChoice | null {
  if (option && option !== 'auto') {
    if (shards !== undefined && shards !== option.count)
      throw new ConfigError(
        'shards',
        shards,
        `${option.count}, the n of --shard ${option.index}/${option.count} (or leave it out)`,
      );
    return { shard: option, from: '--shard' };
  }
  const countFrom = () =>
    shards ?? (env.GEOMSTREAM_SHARDS !== undefined ? int('GEOMSTREAM_SHARDS', env.GEOMSTREAM_SHARDS, 1) : undefined);
  let choice: ShardChoice | null = null;
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = int('SLURM_ARRAY_TASK_ID', env.SLURM_ARRAY_TASK_ID, 0);
    const explicit = countFrom();
    if (explicit !== undefined) {
      // A count given (--shards, GEOMSTREAM_SHARDS): the task id is the shard index, so that one task
      // resubmitted alone (sbatch --array=1, an array of one) still writes shard 1 of n.
      choice = { shard: { index: id, count: explicit }, from: `SLURM_ARRAY_TASK_ID=${id} of ${explicit} shards` };
    } else {
      const min = env.SLURM_ARRAY_TASK_MIN !== undefined ? int('SLURM_ARRAY_TASK_MIN', env.SLURM_ARRAY_TASK_MIN, 0) : 0;
      const count =
        env.SLURM_ARRAY_TASK_COUNT !== undefined
          ? int('SLURM_ARRAY_TASK_COUNT', env.SLURM_ARRAY_TASK_COUNT, 1)
          : env.SLURM_ARRAY_TASK_MAX !== undefined
            ? int('SLURM_ARRAY_TASK_MAX', env.SLURM_ARRAY_TASK_MAX, min) - min + 1
            : undefined;
      if (count === undefined)
        throw new ConfigError('SLURM_ARRAY_TASK_COUNT', null, 'the array size (Slurm sets it; or give --shards n)');
      choice = { shard: { index: id - min, count }, from: `SLURM_ARRAY_TASK_ID=${id}` };
    }
  } else if (env.JOB_COMPLETION_INDEX !== undefined) {
    const index = int('JOB_COMPLETION_INDEX', env.JOB_COMPLETION_INDEX, 0);
    const count = countFrom();
    if (count === undefined)
      throw new ConfigError(
        'shards',
        null,
        "the number of shards for a Kubernetes Indexed Job: --shards n or GEOMSTREAM_SHARDS (the Job's completions)",
      );
    choice = { shard: { index, count }, from: `JOB_COMPLETION_INDEX=${index}` };
  }
  if (!choice) {
    if (option === 'auto')
      throw new ConfigError(
        'shard',
        'auto',
        'auto inside a Slurm array job (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX); elsewhere i/n',
      );
    if (shards !== undefined)
      throw new ConfigError('shards', shards, 'with --shard auto inside an array job; elsewhere use --shard i/n');
    return null;
  }
  const { index, count } = choice.shard;
  if (index < 0 || index >= count)
    throw new ConfigError('shard', `${index}/${count}`, `i/n with integers 0 <= i < n (from ${choice.from})`);
  return choice;
}
