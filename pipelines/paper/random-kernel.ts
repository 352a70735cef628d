/**
 * The paper's sweep on the random-PSD-kernel task (the authors' 2024 runs): P = 32 conditions,
 * k ∈ {1, 5} targets, a random input kernel with CKA(Kx, Ky) = c whose random part has rank 5 or
 * P − 1 − k (`randomKernel`), 12 alignments from 0 to 1; the networks and training of
 * paper-sweep.ts.
 *
 *   geomstream run pipelines/paper/random-kernel.ts [--quick]
 */
import { ConfigError, randomKernel } from '../../src/index.js';
import { paperSweep } from './paper-sweep.js';

export default paperSweep({
  name: 'paper-random-kernel',
  description: "The paper's alignment sweep on random-kernel tasks: P = 32, k ∈ {1, 5}, rank ∈ {5, P − 1 − k}",
  seed: 2026,
  d: { full: [5], quick: [5] },
  variant: { name: 'rank_rule', values: ['5', 'P-1-k'] }, // the task's own `rank` column holds the number
  task: ({ d, k, alignment, seed, variant }) => {
    const P = 2 ** d;
    if (variant !== '5' && variant !== 'P-1-k') throw new ConfigError('set variants', variant, "'5' or 'P-1-k'");
    return randomKernel({ P, k, alignment, rank: variant === '5' ? 5 : P - 1 - k, N: 100, sigma: 1, seed });
  },
  cMax: () => 1,
});
