/**
 * The network's forward pass in plain float64 (no tensors): used by the probe to compute
 * representations from snapshots, and by tests as the reference the tensor engine must match.
 *
 *   h = f(W x + b1),   logits = J h + b2,   loss = mean over samples and outputs of BCE(sigmoid(logits), y)
 */
import type { Matrix, NetworkParams } from '../types.js';
import type { Activation } from './activations.js';

/** Hidden activity f(X Wᵀ + b1) for the rows of X (n × N): returns n × H, float64. */
export function hiddenActivity(params: NetworkParams, act: Activation, X: Matrix): Matrix & { data: Float64Array } {
  const { N, H, W, b1 } = params;
  if (X.cols !== N) throw new Error(`X: has ${X.cols} columns; accepted: the network's input dimension ${N}`);
  const n = X.rows;
  const out = new Float64Array(n * H);
  for (let r = 0; r < n; r++) {
    const xo = r * N;
    for (let i = 0; i < H; i++) {
      let z = b1[i];
      const wo = i * N;
      for (let j = 0; j < N; j++) z += W[wo + j] * X.data[xo + j];
      out[r * H + i] = act.f(z);
    }
  }
  return { rows: n, cols: H, data: out };
}

/** Output logits J h + b2 for hidden activity h (n × H): returns n × K. */
export function readoutLogits(params: NetworkParams, h: Matrix): Matrix & { data: Float64Array } {
  const { H, K, J, b2 } = params;
  const n = h.rows;
  const out = new Float64Array(n * K);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < K; k++) {
      let s = b2[k];
      for (let i = 0; i < H; i++) s += J[k * H + i] * h.data[r * H + i];
      out[r * K + k] = s;
    }
  }
  return { rows: n, cols: K, data: out };
}

/** Binary cross-entropy of logit l against label y, computed stably: max(l, 0) − l·y + log(1 + e^(−|l|)). */
export function bceWithLogits(l: number, y: number): number {
  return Math.max(l, 0) - l * y + Math.log1p(Math.exp(-Math.abs(l)));
}

/** Mean BCE and bit accuracy of the network on inputs X (n × N) with 0/1 targets Y (n × K). */
export function evaluate(params: NetworkParams, act: Activation, X: Matrix, Y: Matrix): { loss: number; accuracy: number } {
  const logits = readoutLogits(params, hiddenActivity(params, act, X));
  let loss = 0, correct = 0;
  for (let i = 0; i < logits.data.length; i++) {
    const l = logits.data[i], y = Y.data[i];
    loss += bceWithLogits(l, y);
    if ((l > 0 ? 1 : 0) === y) correct++;
  }
  return { loss: loss / logits.data.length, accuracy: correct / logits.data.length };
}
