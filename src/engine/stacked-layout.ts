/**
 * The tfjs engine's stacked layout of an ensemble's parameters (see ensemble.ts): the first layers
 * side by side in Wb [N + 1, S·H] (column s·H + i is neuron i of network s, its last entry the bias
 * b1), readouts J [S, H, K], b2 [S, 1, K], deeper layers W [S, H_in, H_out] and b [S, 1, H]; and
 * back to one network's `NetworkParams` (W as H × N rows, J as K × H rows).
 */
import type { NetworkParams } from '../types.js';
import { ConfigError } from '../errors.js';

export interface Stacked {
  W: Float32Array;
  J: Float32Array;
  b2: Float32Array;
  deepW: Float32Array[];
  deepB: Float32Array[];
}

/** Stack S networks of one shape (N, H, K, depth); a network of another shape is a ConfigError. */
export function stackParams(params: NetworkParams[]): Stacked {
  const { N, H, K } = params[0];
  const S = params.length,
    L = params[0].layers?.length ?? 0;
  const W = new Float32Array((N + 1) * S * H);
  const J = new Float32Array(S * H * K);
  const b2 = new Float32Array(S * K);
  const deepW = Array.from({ length: L }, () => new Float32Array(S * H * H));
  const deepB = Array.from({ length: L }, () => new Float32Array(S * H));
  params.forEach((p, s) => {
    if (p.N !== N || p.H !== H || p.K !== K || (p.layers?.length ?? 0) !== L)
      throw new ConfigError(
        'params (N, H, K, depth)',
        [p.N, p.H, p.K, p.layers?.length ?? 0],
        `the same shape for every network of an ensemble: ${[N, H, K, L].join(', ')}`,
      );
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < N; j++) W[j * S * H + s * H + i] = p.W[i * N + j];
      W[N * S * H + s * H + i] = p.b1[i];
      for (let k = 0; k < K; k++) J[(s * H + i) * K + k] = p.J[k * H + i];
    }
    for (let k = 0; k < K; k++) b2[s * K + k] = p.b2[k];
    for (let l = 0; l < L; l++) {
      const lw = p.layers![l];
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < H; j++) deepW[l][(s * H + j) * H + i] = lw.W[i * H + j];
        deepB[l][s * H + i] = lw.b[i];
      }
    }
  });
  return { W, J, b2, deepW, deepB };
}

/**
 * Network s's parameters (or gradients) from the stacked layouts: wb [N + 1, S·H], j [S, H, K]
 * (null: a zero-length J), c [S, 1, K], and the deeper layers' [S, H, H] and [S, 1, H].
 */
export function unstackNetwork(
  s: number,
  shape: { S: number; N: number; H: number; K: number },
  wb: Float32Array,
  j: Float32Array | null,
  c: Float32Array,
  deep: Array<[Float32Array, Float32Array]>,
): NetworkParams {
  const { S, N, H, K } = shape;
  const W = new Float32Array(H * N);
  const J = new Float32Array(K * H);
  for (let i = 0; i < H; i++) {
    for (let jj = 0; jj < N; jj++) W[i * N + jj] = wb[jj * S * H + s * H + i];
    if (j) for (let k = 0; k < K; k++) J[k * H + i] = j[(s * H + i) * K + k];
  }
  const b1 = wb.slice(N * S * H + s * H, N * S * H + (s + 1) * H);
  const p: NetworkParams = { N, H, K, W, b1, J, b2: c.slice(s * K, (s + 1) * K) };
  if (deep.length) p.layers = deep.map(([dw, db]) => unstackLayer(dw, db, s, H));
  return p;
}

/** Network s's layer from stacked W [S, H_in, H_out] and b [S, 1, H]: W as H_out × H_in rows. */
function unstackLayer(w: Float32Array, b: Float32Array, s: number, H: number): { W: Float32Array; b: Float32Array } {
  const W = new Float32Array(H * H);
  for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) W[i * H + j] = w[(s * H + j) * H + i];
  return { W, b: b.slice(s * H, (s + 1) * H) };
}
