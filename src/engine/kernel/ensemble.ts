/**
 * The fused-kernel training engine: an ensemble of MLPs (hidden layers of equal width) trained by
 * SGD or Adam in geomstream's own WebAssembly SIMD kernel (wat.ts), for every activation of
 * src/activations.ts. (The tfjs engine remains for the tfjs-node backend, and as the reference.)
 *
 * The maths is that of `Ensemble` (ensemble.ts): mean BCE over batch and outputs,
 *   g = (sigmoid(logits) − y)/(B·K),  δ_depth = (g·J) ⊙ f′,  δ_{l−1} = (δ_l·W_lᵀ) ⊙ f′,
 *   ∇W_l = h_{l−1}ᵀ·δ_l,  ∇b_l = Σ_b δ_l,  ∇b2 = Σ_b g,  ∇J = hᵀ·g (trained readout),
 * all gradients from the parameters before the step; SGD adds −lr·∇ (−lr folded into g), Adam
 * (PyTorch's defaults, adam.ts) keeps its moments in the kernel's memory. The output layer
 * (B·S·K values) is computed here in JavaScript, in float64: the loss per network and step, and g.
 */
import type { NetworkParams, Readout } from '../../types.js';
import { assembleWat } from '../../wasm.js';
import { bceWithLogits } from '../forward.js';
import type { Activation } from '../../activations.js';
import { trainingKernelWat } from './wat.js';
import { kernelLayout, type KernelLayout, type KernelShape } from './layout.js';
import { storesDerivative, type KernelActivation } from './activation-wat.js';
import { ConfigError } from '../../errors.js';
import { ADAM } from '../../config.js';

/** How the kernel computes an activation (every activation of src/activations.ts has a form). */
export function kernelActivation(act: Activation): KernelActivation {
  const p = act.params;
  switch (act.name) {
    case 'tanh':
      return { form: 'tanh' };
    case 'relu':
      return { form: 'clip', shift: 0, lo: 0, hi: Infinity };
    case 'bounded-relu':
      return { form: 'clip', shift: 0, lo: 0, hi: p.u };
    case 'shifted-relu':
      return { form: 'clip', shift: p.s, lo: 0, hi: Infinity };
    case 'hard-tanh':
      return { form: 'clip', shift: 0, lo: -1, hi: 1 };
    case 'identity':
      return { form: 'clip', shift: 0, lo: -Infinity, hi: Infinity };
    case 'leaky-relu':
      return { form: 'leaky', slope: p.slope };
    case 'sigmoid':
      return { form: 'sigmoid' };
    case 'softplus':
      return { form: 'softplus', beta: p.beta };
    case 'gelu':
      return { form: 'gelu' };
    case 'elu':
      return { form: 'elu', alpha: p.alpha };
  }
}

const modules = new Map<string, Promise<WebAssembly.Module>>();

/** Assemble (once per text) and compile a kernel module. */
function compile(wat: string): Promise<WebAssembly.Module> {
  let m = modules.get(wat);
  if (!m) {
    m = assembleWat('kernel.wat', wat);
    modules.set(wat, m);
    m.catch(() => modules.delete(wat));
  }
  return m;
}

export class KernelEnsemble {
  readonly S: number;
  readonly N: number;
  readonly H: number;
  readonly K: number;
  readonly depth: number;
  private readonly lay: KernelLayout;
  private readonly fwd: (rows: number) => void;
  private readonly bwd: (rows: number, a: number, c2: number) => void;
  private readonly adam: boolean;
  /** Adam's step count. */
  private t = 0;
  /** Views of the regions (re-made if the memory ever grows; it does not). */
  private readonly W: Float32Array;
  private readonly b1: Float32Array;
  private readonly deep: Array<{ W: Float32Array; b: Float32Array; WT: Float32Array }>;
  private readonly Jt: Float32Array;
  private readonly b2: Float32Array;
  /** The minibatch rows, stride `lay.Np` (the caller fills rows with `input(r)`). */
  private readonly X: Float32Array;
  private readonly L: Float32Array;
  private readonly G: Float32Array;

  private constructor(shape: KernelShape, instance: WebAssembly.Instance, mem: WebAssembly.Memory) {
    this.S = shape.S;
    this.N = shape.N;
    this.H = shape.H;
    this.K = shape.K;
    this.depth = shape.depth;
    this.lay = kernelLayout(shape);
    this.fwd = instance.exports.forward as (rows: number) => void;
    this.bwd = instance.exports.backward as (rows: number, a: number, c2: number) => void;
    this.adam = shape.optimizer === 'adam';
    const { lay } = this;
    const SK = this.S * this.K;
    const view = (at: number, n: number) => new Float32Array(mem.buffer, at, n);
    this.W = view(lay.W, lay.Np * lay.Ms);
    this.b1 = view(lay.b1, lay.M);
    this.deep = lay.deep.map((d) => ({
      W: view(d.W, lay.Hp * lay.Ms),
      b: view(d.b, lay.M),
      WT: view(d.WT, lay.Hp * lay.Ms),
    }));
    this.Jt = view(lay.Jt, SK * lay.Hp);
    this.b2 = view(lay.b2, SK);
    this.X = view(lay.X, lay.R * lay.Np);
    this.L = view(lay.L, lay.R * SK);
    this.G = view(lay.G, lay.R * SK);
    if (lay.mask !== null) {
      const mask = new Int32Array(mem.buffer, lay.mask, lay.M);
      for (let s = 0; s < this.S; s++) mask.fill(-1, s * lay.Hp, s * lay.Hp + this.H);
    }
  }

  /**
   * An ensemble of these networks (same N, H, K and depth) in a kernel compiled for `activation`,
   * the optimizer and minibatches of up to `rows` rows.
   */
  static async create(
    params: NetworkParams[],
    activation: Activation,
    readout: Readout,
    rows: number,
    optimizer: KernelShape['optimizer'] = 'sgd',
  ): Promise<KernelEnsemble> {
    const act = kernelActivation(activation);
    const { N, H, K } = params[0];
    const depth = 1 + (params[0].layers?.length ?? 0);
    for (const p of params) {
      if (p.N !== N || p.H !== H || p.K !== K || 1 + (p.layers?.length ?? 0) !== depth)
        throw new ConfigError(
          'params (N, H, K, depth)',
          [p.N, p.H, p.K, 1 + (p.layers?.length ?? 0)],
          `the same shape for every network of an ensemble: ${[N, H, K, depth].join(', ')}`,
        );
    }
    const shape: KernelShape = {
      S: params.length,
      N,
      H,
      K,
      depth,
      rows,
      trainReadout: readout === 'trained',
      optimizer,
      storedDerivative: storesDerivative(act),
    };
    const lay = kernelLayout(shape);
    const module = await compile(trainingKernelWat(shape, act));
    const mem = new WebAssembly.Memory({ initial: Math.ceil(lay.bytes / 65536) });
    const instance = await WebAssembly.instantiate(module, { env: { memory: mem } });
    const k = new KernelEnsemble(shape, instance, mem);
    k.load(params);
    return k;
  }

  private load(params: NetworkParams[]): void {
    const { N, H, K } = this;
    const { Hp, Ms } = this.lay;
    params.forEach((p, s) => {
      for (let i = 0; i < H; i++) {
        const col = s * Hp + i;
        for (let j = 0; j < N; j++) this.W[j * Ms + col] = p.W[i * N + j];
        this.b1[col] = p.b1[i];
        for (let k = 0; k < K; k++) this.Jt[(s * K + k) * Hp + i] = p.J[k * H + i];
      }
      for (let k = 0; k < K; k++) this.b2[s * K + k] = p.b2[k];
      // Layer l's W is H_out × H_in: W[j·H + i] is the weight from neuron i to neuron j.
      p.layers?.forEach((layer, l) => {
        const d = this.deep[l];
        for (let j = 0; j < H; j++) {
          d.b[s * Hp + j] = layer.b[j];
          for (let i = 0; i < H; i++) {
            d.W[i * Ms + s * Hp + j] = layer.W[j * H + i];
            d.WT[j * Ms + s * Hp + i] = layer.W[j * H + i];
          }
        }
      });
    });
  }

  /** Row r of the minibatch buffer (N values; the caller copies an input into it). */
  input(r: number): Float32Array {
    return this.X.subarray(r * this.lay.Np, r * this.lay.Np + this.N);
  }

  /**
   * One optimizer step (SGD or Adam) on the `size` rows now in the input buffer, targets y
   * [size, K]; writes each network's mean BCE on the batch (before the step) to losses[0..S).
   */
  step(size: number, y: Float32Array, lr: number, losses: Float64Array | Float32Array): void {
    const { S, K, L, G } = this;
    const rows = Math.ceil(size / 4) * 4;
    // Rows beyond the batch: zero input (finite activity) and, below, zero error.
    this.X.fill(0, size * this.lay.Np, rows * this.lay.Np);
    this.fwd(rows);
    // SGD: G carries −lr, so that backward's products are the update itself; Adam: the gradient.
    const scale = (this.adam ? 1 : -lr) / (size * K);
    losses.fill(0, 0, S);
    for (let i = 0; i < size; i++) {
      for (let s = 0; s < S; s++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const at = (i * S + s) * K + k,
            l = L[at],
            t = y[i * K + k];
          sum += bceWithLogits(l, t);
          G[at] = scale * (1 / (1 + Math.exp(-l)) - t);
        }
        losses[s] += sum;
      }
    }
    for (let s = 0; s < S; s++) losses[s] /= size * K;
    G.fill(0, size * S * K, rows * S * K);
    if (this.adam) {
      this.t++;
      this.bwd(rows, lr / (1 - ADAM.beta1 ** this.t), 1 - ADAM.beta2 ** this.t);
    } else this.bwd(rows, 0, 1);
  }

  /**
   * Run the forward pass over n samples x [n, N] in chunks of `rows`, calling visit(start, size)
   * with the chunk's logits in this.L ([size, S, K]).
   */
  private forEachChunk(x: Float32Array, n: number, visit: (start: number, size: number) => void): void {
    const { N } = this;
    const R = this.lay.R;
    for (let start = 0; start < n; start += R) {
      const size = Math.min(R, n - start);
      for (let r = 0; r < size; r++) this.input(r).set(x.subarray((start + r) * N, (start + r + 1) * N));
      const rows = Math.ceil(size / 4) * 4;
      this.X.fill(0, size * this.lay.Np, rows * this.lay.Np);
      this.fwd(rows);
      visit(start, size);
    }
  }

  /** The logits of every network on n samples x [n, N]: [n, S, K]. */
  logits(x: Float32Array, n: number): Float32Array {
    const out = new Float32Array(n * this.S * this.K);
    const SK = this.S * this.K;
    this.forEachChunk(x, n, (start, size) => out.set(this.L.subarray(0, size * SK), start * SK));
    return out;
  }

  /**
   * Mean BCE and bit accuracy (logit > 0 ⇔ target 1) per network over n samples x [n, N], y [n, K].
   */
  evaluate(x: Float32Array, y: Float32Array, n: number): { loss: Float64Array; accuracy: Float64Array } {
    const { S, K, L } = this;
    const loss = new Float64Array(S),
      accuracy = new Float64Array(S);
    this.forEachChunk(x, n, (start, size) => {
      for (let i = 0; i < size; i++) {
        for (let s = 0; s < S; s++) {
          for (let k = 0; k < K; k++) {
            const l = L[(i * S + s) * K + k],
              t = y[(start + i) * K + k];
            loss[s] += bceWithLogits(l, t);
            accuracy[s] += (l > 0 ? 1 : 0) === t ? 1 : 0;
          }
        }
      }
    });
    for (let s = 0; s < S; s++) {
      loss[s] /= n * K;
      accuracy[s] /= n * K;
    }
    return { loss, accuracy };
  }

  /** Every network's parameters (float32 copies). */
  params(): NetworkParams[] {
    const { S, N, H, K } = this;
    const { Hp, Ms } = this.lay;
    return Array.from({ length: S }, (_, s) => {
      const W = new Float32Array(H * N),
        b1 = new Float32Array(H),
        J = new Float32Array(K * H),
        b2 = new Float32Array(K);
      for (let i = 0; i < H; i++) {
        const col = s * Hp + i;
        for (let j = 0; j < N; j++) W[i * N + j] = this.W[j * Ms + col];
        b1[i] = this.b1[col];
        for (let k = 0; k < K; k++) J[k * H + i] = this.Jt[(s * K + k) * Hp + i];
      }
      for (let k = 0; k < K; k++) b2[k] = this.b2[s * K + k];
      const p: NetworkParams = { N, H, K, W, b1, J, b2 };
      if (this.deep.length)
        p.layers = this.deep.map((d) => {
          const lw = new Float32Array(H * H);
          for (let j = 0; j < H; j++) for (let i = 0; i < H; i++) lw[j * H + i] = d.W[i * Ms + s * Hp + j];
          return { W: lw, b: d.b.slice(s * Hp, s * Hp + H) };
        });
      return p;
    });
  }
}
