/**
 * The paper's main sweep (docs/science.md §1a) on the aligned parity task with maximal-rank inputs:
 * see paper-sweep.ts for the grid and the training. The full sweep is 432 ensembles of 10
 * networks; shard it (`--shard i/n`, deploy/slurm) on a cluster.
 *
 *   geomstream run pipelines/paper/alignment-sweep.ts [--quick]
 */
import { alignedParity } from '../../src/index.js';
import { paperSweep } from './paper-sweep.js';

export default paperSweep({
  name: 'paper-alignment-sweep',
  description: "The paper's alignment sweep: aligned parity, d ∈ {3, 5}, k ∈ {1, d}, 12 alignments, 9 activations",
  seed: 2024,
  task: ({ d, k, alignment, seed }) => alignedParity({ d, k, alignment, N: 100, sigma: 1, seed }),
  cMax: (d, k) => Math.sqrt(k / (2 ** d - 1)),
});
