/**
 * The tfjs tensor forms of the activations of src/activations.ts (the training engine's side):
 * f and f′ on tensors, and the fused form some activations have inside tfjs's matmul.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../activations.js';

/** An activation as tensor operations. */
export interface ActivationOps {
  /** f on a tensor of pre-activations. */
  forward(z: tf.Tensor): tf.Tensor;
  /** f′(z), given the pre-activations z and the outputs h = f(z) (some derivatives are cheaper from h). */
  derivative(z: tf.Tensor, h: tf.Tensor): tf.Tensor;
  /**
   * For activations of the form f(z) = a·g(c·z) + b with g one of tfjs's fused matmul activations:
   * the training engine computes u = g(c·z) inside the first layer's matmul (tfjs's fused sigmoid
   * is cheaper than matmul + tanh; BENCHMARKS.md) and f′ from u alone:
   * sigmoid: a·c·u(1 − u) (tanh: a = 2, b = −1, c = 2); relu: step(u) = sign(u).
   */
  fusedForm?: { g: 'sigmoid' | 'relu'; a: number; b: number; c: number };
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
// (2·sigmoid(2x) − 1 was measured slower here than tf.tanh: four ops vs one.)
const positive = (z: tf.Tensor) => tf.cast(tf.greater(z, 0), 'float32');

/** The tensor operations of a resolved activation (same f and f′ as its scalar form, in float32). */
export function activationOps(act: Activation): ActivationOps {
  const p = act.params;
  switch (act.name) {
    case 'tanh':
      return {
        forward: (z) => tf.tanh(z),
        derivative: (_z, h) => tf.sub(1, tf.square(h)),
        fusedForm: { g: 'sigmoid', a: 2, b: -1, c: 2 },
      };
    case 'relu':
      return { forward: (z) => tf.relu(z), derivative: positive, fusedForm: { g: 'relu', a: 1, b: 0, c: 1 } };
    case 'bounded-relu':
      return {
        forward: (z) => tf.clipByValue(z, 0, p.u),
        derivative: (z) => tf.cast(tf.logicalAnd(tf.greater(z, 0), tf.less(z, p.u)), 'float32'),
      };
    case 'shifted-relu':
      return { forward: (z) => tf.relu(tf.add(z, p.s)), derivative: (z) => positive(tf.add(z, p.s)) };
    case 'leaky-relu':
      return {
        forward: (z) => tf.leakyRelu(z, p.slope),
        derivative: (z) => tf.where(tf.greater(z, 0), tf.onesLike(z), tf.fill(z.shape, p.slope)),
      };
    case 'softplus':
      return {
        forward: (z) => tf.div(tf.softplus(tf.mul(z, p.beta)), p.beta),
        derivative: (z) => tf.sigmoid(tf.mul(z, p.beta)),
      };
    case 'hard-tanh':
      return { forward: (z) => tf.clipByValue(z, -1, 1), derivative: (z) => tf.cast(tf.less(tf.abs(z), 1), 'float32') };
    case 'sigmoid':
      return {
        forward: (z) => tf.sigmoid(z),
        derivative: (_z, h) => tf.mul(h, tf.sub(1, h)),
        fusedForm: { g: 'sigmoid', a: 1, b: 0, c: 1 },
      };
    case 'gelu':
      return {
        forward: (z) => tf.mul(z, tf.mul(0.5, tf.add(1, tf.erf(tf.mul(z, SQRT1_2))))),
        derivative: (z) =>
          tf.add(
            tf.mul(0.5, tf.add(1, tf.erf(tf.mul(z, SQRT1_2)))),
            tf.mul(z, tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(-0.5, tf.square(z))))),
          ),
      };
    case 'elu':
      return {
        forward: (z) => tf.where(tf.greater(z, 0), z, tf.mul(p.alpha, tf.sub(tf.exp(z), 1))),
        derivative: (z) => tf.where(tf.greater(z, 0), tf.onesLike(z), tf.mul(p.alpha, tf.exp(z))),
      };
    case 'identity':
      return { forward: (z) => tf.clone(z), derivative: (z) => tf.onesLike(z) };
  }
}
