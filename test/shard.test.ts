/** The shard of a process from `--shard`, `--shards` and the batch engines' environment (src/cli/shard.ts). */
import { describe, expect, it } from 'vitest';
import { resolveShard } from '../src/cli/shard.js';

describe('resolveShard', () => {
  it('--shard i/n wins, and --shards must agree with it', () => {
    expect(
      resolveShard({ index: 1, count: 3 }, undefined, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '5' }),
    ).toEqual({ shard: { index: 1, count: 3 }, from: '--shard' });
    expect(() => resolveShard({ index: 1, count: 3 }, 4, {})).toThrow(/shards: received 4; accepted: 3/);
  });
  it("Slurm arrays: the index from the array's first id, the count from the array", () => {
    expect(
      resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3' })?.shard,
    ).toEqual({ index: 2, count: 3 });
    expect(
      resolveShard('auto', undefined, {
        SLURM_ARRAY_TASK_ID: '3',
        SLURM_ARRAY_TASK_MIN: '1',
        SLURM_ARRAY_TASK_COUNT: '3',
      })?.shard,
    ).toEqual({ index: 2, count: 3 });
    expect(
      resolveShard('auto', undefined, {
        SLURM_ARRAY_TASK_ID: '5',
        SLURM_ARRAY_TASK_MIN: '4',
        SLURM_ARRAY_TASK_MAX: '7',
      })?.shard,
    ).toEqual({ index: 1, count: 4 });
    expect(() => resolveShard('auto', undefined, { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '3' })).toThrow(
      /SLURM_ARRAY_TASK_ID: received "x"/,
    );
    // One task resubmitted alone (sbatch --array=1): an array of one; with the count given, the task id is the shard.
    const alone = {
      SLURM_ARRAY_TASK_ID: '1',
      SLURM_ARRAY_TASK_MIN: '1',
      SLURM_ARRAY_TASK_MAX: '1',
      SLURM_ARRAY_TASK_COUNT: '1',
    };
    expect(resolveShard('auto', undefined, { ...alone, GEOMSTREAM_SHARDS: '3' })?.shard).toEqual({
      index: 1,
      count: 3,
    });
    expect(resolveShard(undefined, 3, alone)?.shard).toEqual({ index: 1, count: 3 });
  });
  it('Kubernetes Indexed Jobs: the count from --shards or GEOMSTREAM_SHARDS', () => {
    expect(resolveShard('auto', 4, { JOB_COMPLETION_INDEX: '3' })).toEqual({
      shard: { index: 3, count: 4 },
      from: 'JOB_COMPLETION_INDEX=3',
    });
    expect(resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '0', GEOMSTREAM_SHARDS: '2' })?.shard).toEqual({
      index: 0,
      count: 2,
    });
    expect(() => resolveShard('auto', undefined, { JOB_COMPLETION_INDEX: '0' })).toThrow(
      /--shards n or GEOMSTREAM_SHARDS/,
    );
    expect(() => resolveShard('auto', 2, { JOB_COMPLETION_INDEX: '2' })).toThrow(
      /shard: received "2\/2"; accepted: i\/n with integers 0 <= i < n \(from JOB_COMPLETION_INDEX=2\)/,
    );
  });
  it('outside an array job: none, and auto or --shards alone are refused', () => {
    expect(resolveShard(undefined, undefined, {})).toBeNull();
    expect(() => resolveShard('auto', undefined, {})).toThrow(
      /shard: received "auto"; accepted: auto inside a Slurm array job/,
    );
    expect(() => resolveShard(undefined, 3, {})).toThrow(/shards: received 3/);
  });
});
