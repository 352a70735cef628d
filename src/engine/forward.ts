/**
 * The network's forward pass in plain float64 (no tensors): used by the probe to compute
 * representations from snapshots, and by tests as the reference the tensor engine must match.
 *
 *   h = f(W x + b1),   logits = J h + b2,   loss = mean over samples and outputs of BCE(sigmoid(logits), y)
 */
import type { Matrix, NetworkParams } from '../types.js';
import type { Activation } from '../activations.js';
import { affine } from '../kernels/affine.js';
import { ConfigError } from '../errors.js';

/** f(X Wᵀ + b) for the rows of X (n × inputs), W outputs × inputs: returns n × outputs. */
function layer(
  X: Matrix,
  W: ArrayLike<number>,
  b: ArrayLike<number>,
  outputs: number,
  act: Activation,
): Matrix & { data: Float64Array } {
  const x = X.data instanceof Float64Array ? X.data : Float64Array.from(X.data);
  const out = affine(x, X.rows, X.cols, W, outputs, b);
  for (let i = 0; i < out.length; i++) out[i] = act.f(out[i]);
  return { rows: X.rows, cols: outputs, data: out };
}

/** Number of hidden layers of a network. */
export function depthOf(params: NetworkParams): number {
  return 1 + (params.layers?.length ?? 0);
}

/**
 * Activity of hidden layer `which` (1-based; default the last) for the rows of X (n × N):
 * h1 = f(X Wᵀ + b1), h_l = f(h_{l−1} W_lᵀ + b_l). Returns n × H, float64.
 */
export function hiddenActivity(
  params: NetworkParams,
  act: Activation,
  X: Matrix,
  which = depthOf(params),
): Matrix & { data: Float64Array } {
  const { N, H, W, b1 } = params;
  if (X.cols !== N) throw new ConfigError('X.cols', X.cols, `the network's input dimension ${N}`);
  const depth = depthOf(params);
  if (!Number.isInteger(which) || which < 1 || which > depth)
    throw new ConfigError('layer', which, `an integer from 1 to the network's depth, ${depth}`);
  let h = layer(X, W, b1, H, act);
  for (let l = 0; l < which - 1; l++) h = layer(h, params.layers![l].W, params.layers![l].b, H, act);
  return h;
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
export function evaluate(
  params: NetworkParams,
  act: Activation,
  X: Matrix,
  Y: Matrix,
): { loss: number; accuracy: number } {
  const logits = readoutLogits(params, hiddenActivity(params, act, X));
  let loss = 0,
    correct = 0;
  for (let i = 0; i < logits.data.length; i++) {
    const l = logits.data[i],
      y = Y.data[i];
    loss += bceWithLogits(l, y);
    if ((l > 0 ? 1 : 0) === y) correct++;
  }
  return { loss: loss / logits.data.length, accuracy: correct / logits.data.length };
}
