/** The networks' initial parameters, shared by both engines (tfjs and the kernel). */
import type { NetworkConfig, NetworkParams } from '../types.js';
import { Rng } from '../random.js';

/**
 * Initial parameters of one network from its seed (docs/science.md §2): W ~ N(0, g_w²/N),
 * b1 ~ g_b·N(0, 1)/√N, J ~ N(0, g_J²/H), b2 ~ g_b·N(0, 1)/√H, drawn in that order; then, for
 * hidden layers 2..depth, W_l ~ N(0, g_w²/H) and b_l ~ g_b·N(0, 1)/√H (so the first layer and the
 * readout of a deep network equal those of a one-layer network with the same seed).
 */
export function initialParams(
  seed: number,
  N: number,
  H: number,
  K: number,
  init: NetworkConfig['init'],
  depth = 1,
): NetworkParams {
  const rng = new Rng(seed);
  const W = rng.fillNormal(new Float32Array(H * N), init.weightScale / Math.sqrt(N));
  const b1 = rng.fillNormal(new Float32Array(H), init.biasScale / Math.sqrt(N));
  const J = rng.fillNormal(new Float32Array(K * H), init.readoutScale / Math.sqrt(H));
  const b2 = rng.fillNormal(new Float32Array(K), init.biasScale / Math.sqrt(H));
  const params: NetworkParams = { N, H, K, W, b1, J, b2 };
  if (depth > 1) {
    params.layers = Array.from({ length: depth - 1 }, () => ({
      W: rng.fillNormal(new Float32Array(H * H), init.weightScale / Math.sqrt(H)),
      b: rng.fillNormal(new Float32Array(H), init.biasScale / Math.sqrt(H)),
    }));
  }
  return params;
}
