/**
 * What a task's targets and latents mean to the geometry metrics: the ±1 target features whose
 * linear kernel is the target kernel, and the task's named dichotomies of its conditions.
 */
import type { Matrix, Task } from '../types.js';
import { balancedDichotomies } from '../metrics/dichotomy.js';

/** ±1 coding of the targets, P × K: the feature matrix whose linear kernel is the target kernel Ky. */
export function signedTargets(targets: Matrix): Matrix {
  return { rows: targets.rows, cols: targets.cols, data: Float64Array.from(targets.data, (v) => 2 * v - 1) };
}

/** The named dichotomies of a task: each balanced target ('target0', …), latent variable ('latent0', …), or all. */
export function taskDichotomies(
  task: Task,
  which: 'targets' | 'latents' | 'all',
): Array<{ name: string; positive: number[] }> {
  const P = task.P;
  const fromColumns = (m: Matrix | null, prefix: string) => {
    if (!m) return [];
    const out: Array<{ name: string; positive: number[] }> = [];
    for (let c = 0; c < m.cols; c++) {
      const positive = Array.from({ length: P }, (_, p) => p).filter((p) => m.data[p * m.cols + c] > 0.5);
      // Only balanced dichotomies have a PS/CCGP in the sense of docs/science.md §3.
      if (positive.length * 2 === P) out.push({ name: `${prefix}${c}`, positive });
    }
    return out;
  };
  if (which === 'targets') return fromColumns(task.targets, 'target');
  if (which === 'latents') return fromColumns(task.latents, 'latent');
  return P % 2 ? [] : balancedDichotomies(P).map((positive) => ({ name: positive.join('+'), positive }));
}
