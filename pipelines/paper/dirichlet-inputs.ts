/**
 * The paper's sweep with inputs of random lower dimension (the authors' `scale = 0.5` variant):
 * the weights π of the input kernel drawn from a Dirichlet(2) and moved onto the cos(π, 1_T) = c
 * surface, seeded by the task seed (alignedParity's `inputs: { dirichlet: 2 }`); the grid and the
 * training of paper-sweep.ts.
 *
 *   geomstream run pipelines/paper/dirichlet-inputs.ts [--quick]
 */
import { alignedParity } from '../../src/index.js';
import { paperSweep } from './paper-sweep.js';

export default paperSweep({
  name: 'paper-dirichlet-inputs',
  description: "The paper's alignment sweep with Dirichlet(2) input weights (random lower-dimensional inputs)",
  seed: 2025,
  task: ({ d, k, alignment, seed }) =>
    alignedParity({ d, k, alignment, N: 100, sigma: 1, seed, inputs: { dirichlet: 2 } }),
  cMax: (d, k) => Math.sqrt(k / (2 ** d - 1)),
});
