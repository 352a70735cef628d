/**
 * Adam (Kingma & Ba 2015) with PyTorch's defaults (β1 = 0.9, β2 = 0.999, ε = 1e-8, no weight
 * decay) on tfjs variables: m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
 * θ ← θ − lr·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAM } from '../config.js';

/** Adam's state for a set of variables: the step count and each variable's moments (created on its first step). */
export class Adam {
  private readonly moments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();
  private t = 0;

  /** One step for every (variable, gradient) pair; call inside `tf.tidy`. */
  step(pairs: Array<[tf.Variable, tf.Tensor]>, lr: number): void {
    this.t++;
    const { beta1, beta2, eps } = ADAM;
    const c1 = 1 - beta1 ** this.t,
      c2 = 1 - beta2 ** this.t;
    for (const [v, d] of pairs) {
      let st = this.moments.get(v);
      if (!st) {
        st = { m: tf.variable(tf.zerosLike(v)), v: tf.variable(tf.zerosLike(v)) };
        this.moments.set(v, st);
      }
      st.m.assign(tf.add(tf.mul(st.m, beta1), tf.mul(d, 1 - beta1)));
      st.v.assign(tf.add(tf.mul(st.v, beta2), tf.mul(tf.square(d), 1 - beta2)));
      v.assign(tf.sub(v, tf.div(tf.mul(st.m, lr / c1), tf.add(tf.sqrt(tf.div(st.v, c2)), eps))));
    }
  }

  dispose(): void {
    for (const st of this.moments.values()) tf.dispose([st.m, st.v]);
    this.moments.clear();
  }
}
