/**
 * Training an ensemble of identically shaped networks in the same tensor ops.
 *
 * The S networks share each minibatch; their hidden layers sit side by side in one wide matrix
 * Wb [N + 1, S·H] whose last row holds the biases b1 (inputs carry a trailing 1), so the first
 * layer is one matmul for the whole ensemble, and the readouts are one batched matmul over
 * [S, B, H] × [S, H, K]. (A batched first layer, [S, B, N] × [S, N, H], measured 5× slower on
 * tfjs-wasm than the one wide matmul.) Networks stay independent: one network's NaN never
 * reaches another. The forward readout stays batched for that reason (a block-diagonal readout
 * would mix them, since 0 · NaN = NaN); the backward pass of a frozen readout does use the
 * block-diagonal Jᵀ, after zeroing NaN in the small output error (see blockReadoutT).
 *
 * Gradients are written out by hand (docs/science.md §2 network, mean BCE over batch and outputs):
 *   g = (sigmoid(logits) − y) / (B·K),  dJ = hᵀ g,  db2 = Σ_b g,  dz = (g Jᵀ) ⊙ f′(z),
 *   dW = xᵀ dz,  db1 = Σ_b dz  (deeper layers likewise, layer by layer).
 * For tanh, sigmoid and relu the first layer's activation runs inside the matmul (fusedForm).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NetworkParams, Readout } from '../types.js';
import type { Activation } from '../activations.js';
import { activationOps, type ActivationOps } from './activation-ops.js';
import { Adam } from './adam.js';
import { stackParams, unstackNetwork } from './stacked-layout.js';

/** Gradients of one network, laid out like `NetworkParams` (J is null for a frozen readout). */
export interface NetworkGradients {
  loss: number;
  W: Float32Array;
  b1: Float32Array;
  J: Float32Array | null;
  b2: Float32Array;
  layers?: Array<{ W: Float32Array; b: Float32Array }>;
}

export type Optimizer = 'sgd' | 'adam';

/** S networks' parameters as tfjs variables, with the forward pass, gradients and the optimizer step. */
export class Ensemble {
  readonly S: number;
  readonly N: number;
  readonly H: number;
  readonly K: number;
  readonly depth: number;
  /** [N + 1, S·H]: column s·H + i is neuron i of network s, its last entry the bias. */
  private readonly Wb: tf.Variable;
  /** Hidden layers 2..depth: W [S, H_in, H_out], b [S, 1, H]. */
  private readonly deep: Array<{ W: tf.Variable; b: tf.Variable }>;
  private readonly J: tf.Variable;
  private readonly b2: tf.Variable;
  private readonly adam = new Adam();
  private readonly ops: ActivationOps;

  constructor(
    params: NetworkParams[],
    readonly activation: Activation,
    readonly readout: Readout,
    readonly optimizer: Optimizer = 'sgd',
  ) {
    this.ops = activationOps(activation);
    const { N, H, K } = params[0];
    this.S = params.length;
    this.N = N;
    this.H = H;
    this.K = K;
    this.depth = 1 + (params[0].layers?.length ?? 0);
    const S = this.S,
      L = this.depth - 1;
    const { W, J, b2, deepW, deepB } = stackParams(params);
    // tidy disposes the initial tensors; the variables survive it.
    [this.Wb, this.J, this.b2] = tf.tidy(() => [
      tf.variable(tf.tensor2d(W, [N + 1, S * H])),
      tf.variable(tf.tensor3d(J, [S, H, K])),
      tf.variable(tf.tensor3d(b2, [S, 1, K])),
    ]);
    this.deep = Array.from({ length: L }, (_, l) =>
      tf.tidy(() => ({
        W: tf.variable(tf.tensor3d(deepW[l], [S, H, H])),
        b: tf.variable(tf.tensor3d(deepB[l], [S, 1, H])),
      })),
    );
  }

  /** Append the constant-1 input that multiplies the bias row: x [n, N] → [n, N + 1]. */
  static withBias(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.concat([x, tf.ones([x.shape[0], 1])], 1) as tf.Tensor2D);
  }

  /**
   * Forward pass from inputs with the bias column x1 [B, N + 1]: first-layer pre-activations z1
   * [B, S·H] and activity h1, per-network activity of every layer hs[l] [S, B, H] (deeper layers'
   * pre-activations in zs), logits [S, B, K].
   */
  private forward(x1: tf.Tensor2D) {
    const B = x1.shape[0];
    const sf = this.fused();
    let z1: tf.Tensor2D, h1: tf.Tensor2D;
    if (sf) {
      // u = g(c·z) from the fused matmul; z1 then holds u, which is all the derivative needs.
      z1 = tf.fused.matMul({
        a: sf.c === 1 ? x1 : (tf.mul(x1, sf.c) as tf.Tensor2D),
        b: this.Wb as tf.Tensor2D,
        activation: sf.g,
      }) as tf.Tensor2D;
      h1 = (sf.a === 1 && sf.b === 0 ? z1 : tf.add(tf.mul(z1, sf.a), sf.b)) as tf.Tensor2D;
    } else {
      z1 = tf.matMul(x1, this.Wb) as tf.Tensor2D;
      h1 = this.ops.forward(z1) as tf.Tensor2D;
    }
    const hs: tf.Tensor3D[] = [tf.transpose(tf.reshape(h1, [B, this.S, this.H]), [1, 0, 2]) as tf.Tensor3D];
    const zs: tf.Tensor3D[] = [];
    for (const { W, b } of this.deep) {
      const z = tf.add(tf.matMul(hs[hs.length - 1], W as tf.Tensor3D), b) as tf.Tensor3D;
      zs.push(z);
      hs.push(this.ops.forward(z) as tf.Tensor3D);
    }
    const logits = tf.add(tf.matMul(hs[hs.length - 1], this.J as tf.Tensor3D), this.b2) as tf.Tensor3D;
    return { z1, h1, zs, hs, logits };
  }

  /** Mean BCE per network, [S], from logits [S, B, K] and targets y [B, K]. */
  private static bce(logits: tf.Tensor3D, y: tf.Tensor2D): tf.Tensor1D {
    const l = logits;
    const per = tf.add(tf.sub(tf.relu(l), tf.mul(l, y)), tf.log1p(tf.exp(tf.neg(tf.abs(l)))));
    return tf.mean(per, [1, 2]) as tf.Tensor1D;
  }

  /** Jᵀ per network [S, K, H], kept while the readout is frozen (tfjs-wasm's transposeB path is slow). */
  private jt: tf.Tensor3D | null = null;
  /**
   * For a frozen readout of a one-layer ensemble: the block-diagonal [S·K, S·H] matrix of the
   * readouts' transposes, so the backward pass g → ∂L/∂h is one plain matmul straight into the
   * [B, S·H] layout (the batched [S, B, K] × [S, K, H] matmul measured 0.95 ms for 0.5 MFLOP, and
   * its result needed a transpose back). NaN in one network's g is zeroed first, since 0 · NaN
   * would otherwise reach every network (a network's g is NaN only once it has diverged).
   */
  private jbdT: tf.Tensor2D | null = null;

  private blockReadoutT(): tf.Tensor2D | null {
    if (this.readout !== 'frozen' || this.deep.length) return null;
    const { S, H, K } = this;
    if (S * K * S * H > 16_000_000) return null;
    if (!this.jbdT) {
      const j = this.J.dataSync();
      const bd = new Float32Array(S * K * S * H);
      for (let s = 0; s < S; s++)
        for (let i = 0; i < H; i++)
          for (let k = 0; k < K; k++) bd[(s * K + k) * S * H + s * H + i] = j[(s * H + i) * K + k];
      this.jbdT = tf.keep(tf.tensor2d(bd, [S * K, S * H]));
    }
    return this.jbdT;
  }

  private readoutT(): tf.Tensor3D {
    if (this.readout === 'trained') return tf.transpose(this.J, [0, 2, 1]) as tf.Tensor3D;
    if (!this.jt) this.jt = tf.keep(tf.transpose(this.J, [0, 2, 1]) as tf.Tensor3D);
    return this.jt;
  }

  /**
   * Loss and `scale` × gradients on a minibatch given as x1 [B, N + 1] (with the bias column) and
   * its transpose x1T: tfjs-wasm's matMul with transposeA does not use the fast kernel, so callers
   * pass x1T materialised (built with the minibatch). `scale` (−lr for an SGD step) is applied to
   * the small output error g, not to the large gradients.
   */
  private grads(x1: tf.Tensor2D, y: tf.Tensor2D, x1T: tf.Tensor2D = tf.transpose(x1), scale = 1) {
    const B = x1.shape[0];
    const { z1, h1, zs, hs, logits } = this.forward(x1);
    const loss = Ensemble.bce(logits, y);
    const g = tf.mul(tf.sub(tf.sigmoid(logits), y), scale / (B * this.K)) as tf.Tensor3D;
    const db2 = tf.sum(g, 1, true);
    const top = hs[hs.length - 1];
    const dJ = this.readout === 'trained' ? tf.matMul(top, g, true, false) : null;
    const bd = this.blockReadoutT();
    if (bd) {
      const g2 = tf.reshape(tf.transpose(g, [1, 0, 2]), [B, this.S * this.K]);
      const safe = tf.where(tf.isNaN(g2), tf.zerosLike(g2), g2);
      const dz1 = tf.mul(tf.matMul(safe, bd), this.firstDerivative(z1, h1));
      return { loss, dWb: tf.matMul(x1T, dz1), deep: [], dJ, db2 };
    }
    let dh = tf.matMul(g, this.readoutT()) as tf.Tensor3D;
    const deep: Array<{ dW: tf.Tensor; db: tf.Tensor }> = [];
    for (let l = this.deep.length - 1; l >= 0; l--) {
      const dz = tf.mul(dh, this.ops.derivative(zs[l], hs[l + 1])) as tf.Tensor3D;
      deep[l] = { dW: tf.matMul(hs[l], dz, true, false), db: tf.sum(dz, 1, true) };
      dh = tf.matMul(dz, this.deep[l].W as tf.Tensor3D, false, true) as tf.Tensor3D;
    }
    const dh1 = tf.reshape(tf.transpose(dh, [1, 0, 2]), [B, this.S * this.H]);
    const dz1 = tf.mul(dh1, this.firstDerivative(z1, h1));
    const dWb = tf.matMul(x1T, dz1);
    return { loss, dWb, deep, dJ, db2 };
  }

  /** The fused first-layer form, for one-layer networks whose activation has one. */
  private fused() {
    return this.deep.length ? undefined : this.ops.fusedForm;
  }

  /** f′ at the first layer: from u = g(c·z) on the fused path (z1 holds u there), else from z and h. */
  private firstDerivative(z1: tf.Tensor2D, h1: tf.Tensor2D): tf.Tensor {
    const sf = this.fused();
    if (sf) return sf.g === 'relu' ? tf.sign(z1) : tf.mul(tf.mul(z1, tf.sub(1, z1)), sf.a * sf.c);
    return this.ops.derivative(z1, h1);
  }

  /** Pairs of (variable, its gradient) from `grads`. */
  private pairs(g: ReturnType<Ensemble['grads']>): Array<[tf.Variable, tf.Tensor]> {
    const out: Array<[tf.Variable, tf.Tensor]> = [
      [this.Wb, g.dWb],
      [this.b2, g.db2],
    ];
    if (g.dJ) out.push([this.J, g.dJ]);
    g.deep.forEach((d, l) => {
      out.push([this.deep[l].W, d.dW], [this.deep[l].b, d.db]);
    });
    return out;
  }

  /**
   * One optimizer step for every network on the minibatch x1 [B, N + 1] (with the bias column,
   * see `withBias`), y [B, K]; x1T is x1 transposed. SGD: θ ← θ − lr·∇; Adam: the usual
   * bias-corrected moments (Kingma & Ba 2015). Returns the minibatch loss per network, [S],
   * computed before the update; the caller owns (and disposes) it.
   */
  step(x1: tf.Tensor2D, y: tf.Tensor2D, lr: number, x1T?: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      if (this.optimizer === 'sgd') {
        const g = this.grads(x1, y, x1T, -lr);
        for (const [v, d] of this.pairs(g)) v.assign(tf.add(v, d));
        return g.loss;
      }
      const g = this.grads(x1, y, x1T, 1);
      this.adam.step(this.pairs(g), lr);
      return g.loss;
    });
  }

  /** Loss and gradients of each network on one batch (x [B, N], y [B, K]), read back (for tests and diagnostics). */
  gradients(x: tf.Tensor2D, y: tf.Tensor2D): NetworkGradients[] {
    const tensors = tf.tidy(() => {
      const g = this.grads(Ensemble.withBias(x), y);
      return [g.loss, g.dWb, g.dJ ?? tf.zeros([0]), g.db2, ...g.deep.flatMap((d) => [d.dW, d.db])];
    });
    const [l, w, j0, c, ...deep] = tensors.map((t) => t.dataSync() as Float32Array);
    const j = this.readout === 'trained' ? j0 : null;
    tf.dispose(tensors);
    const layers = this.deep.map((_, li) => [deep[2 * li], deep[2 * li + 1]] as [Float32Array, Float32Array]);
    return Array.from({ length: this.S }, (_, s) => {
      const { W, b1, J, b2, layers: ls } = unstackNetwork(s, this, w, j, c, layers);
      const out: NetworkGradients = { loss: l[s], W, b1, J: j ? J : null, b2 };
      if (ls) out.layers = ls;
      return out;
    });
  }

  /** Mean BCE and bit accuracy per network on a whole data set (x1 [n, N + 1] with the bias column, y [n, K]), in chunks. */
  evaluate(x1: tf.Tensor2D, y: tf.Tensor2D, chunk = 2048): { loss: Float64Array; accuracy: Float64Array } {
    const n = x1.shape[0];
    const loss = new Float64Array(this.S);
    const accuracy = new Float64Array(this.S);
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const [l, a] = tf.tidy(() => {
        const xs = tf.slice(x1, [start, 0], [size, this.N + 1]);
        const ys = tf.slice(y, [start, 0], [size, this.K]);
        const { logits } = this.forward(xs);
        const correct = tf.cast(tf.equal(tf.cast(tf.greater(logits, 0), 'float32'), ys), 'float32');
        return [Ensemble.bce(logits, ys), tf.mean(correct, [1, 2])];
      });
      const ld = l.dataSync(),
        ad = a.dataSync();
      for (let s = 0; s < this.S; s++) {
        loss[s] += (ld[s] * size) / n;
        accuracy[s] += (ad[s] * size) / n;
      }
      tf.dispose([l, a]);
    }
    return { loss, accuracy };
  }

  /** Read every network's parameters back (float32 copies). */
  params(): NetworkParams[] {
    const w = this.Wb.dataSync() as Float32Array,
      j = this.J.dataSync() as Float32Array,
      c = this.b2.dataSync() as Float32Array;
    const deep = this.deep.map(
      ({ W, b }) => [W.dataSync() as Float32Array, b.dataSync() as Float32Array] as [Float32Array, Float32Array],
    );
    return Array.from({ length: this.S }, (_, s) => unstackNetwork(s, this, w, j, c, deep));
  }

  dispose(): void {
    tf.dispose([this.Wb, this.J, this.b2, ...this.deep.flatMap((d) => [d.W, d.b])]);
    if (this.jt) this.jt.dispose();
    if (this.jbdT) this.jbdT.dispose();
    this.adam.dispose();
  }
}
