/**
 * `DenseRows`: a compact float64 copy of chosen rows of a data matrix, with the passes the
 * classifiers make over it most — margins (z_i·v for every row), Gram updates (S += s·Σ z zᵀ over
 * a subset of rows), weighted sums Σ c_i z_i and the SVM's dual coordinate-descent pass, z_i =
 * (x_i, 1) — in the f64x2 kernels (kernels/module.ts).
 *
 * Why: these loops, with the Cholesky solve of each Newton step, are most of a linear SVM fit, and
 * they run several times faster in f64x2 than in plain JavaScript. The arithmetic is the same
 * float64 sums in another order (pairs of lanes), so results agree to rounding.
 */
import { acquire, align16, release, type Slot } from './module.js';

/** Rows of a row-major data matrix, compact in WebAssembly memory, with their Gram matrix S. */
export class DenseRows {
  /** Number of rows held. */
  readonly n: number;
  readonly p: number;
  /** q = p + 1: the rows carry a trailing constant 1. */
  readonly q: number;
  /** The (q × q) Gram accumulator that `addOuter` updates (a view into the module's memory). */
  readonly gram: Float64Array;
  /** `dots` reads its vector (length q) from here and writes the n results to `out`. */
  readonly v: Float64Array;
  readonly out: Float64Array;
  /** `weightedSum` reads its n weights from here and writes the q results to `sum`. */
  readonly weights: Float64Array;
  readonly sum: Float64Array;
  private readonly idx: Int32Array;
  /** State of `dualPass`: dual variables, ±1 labels, and the diagonal Q_ii + 1/(2C) of each row. */
  readonly alpha: Float64Array;
  readonly sign: Float64Array;
  readonly qd: Float64Array;
  private readonly at: {
    Z: number;
    v: number;
    out: number;
    S: number;
    zs: number;
    idx: number;
    c: number;
    sum: number;
    alpha: number;
    sign: number;
    qd: number;
  };
  private slot: Slot | null;

  /** Copy rows `rows` of the n × p matrix x (row-major). Call `dispose()` when done, to reuse the memory. */
  constructor(x: Float64Array, p: number, rows: ArrayLike<number>) {
    const n = rows.length,
      q = p + 1,
      qp = q + (q % 2);
    this.n = n;
    this.p = p;
    this.q = q;
    let bytes = 0;
    const take = (b: number) => {
      const o = bytes;
      bytes += align16(b);
      return o;
    };
    this.at = {
      Z: take(8 * n * p),
      v: take(8 * qp),
      out: take(8 * n),
      S: take(8 * (q * q + 2)),
      zs: take(8 * 4 * qp),
      idx: take(4 * n),
      c: take(8 * n),
      sum: take(8 * qp),
      alpha: take(8 * n),
      sign: take(8 * n),
      qd: take(8 * n),
    };
    this.slot = acquire(bytes);
    const buf = this.slot.memory.buffer;
    const Z = new Float64Array(buf, this.at.Z, n * p);
    for (let i = 0; i < n; i++) Z.set(x.subarray(rows[i] * p, rows[i] * p + p), i * p);
    this.v = new Float64Array(buf, this.at.v, q);
    this.out = new Float64Array(buf, this.at.out, n);
    this.gram = new Float64Array(buf, this.at.S, q * q);
    this.idx = new Int32Array(buf, this.at.idx, n);
    this.weights = new Float64Array(buf, this.at.c, n);
    this.sum = new Float64Array(buf, this.at.sum, q);
    this.alpha = new Float64Array(buf, this.at.alpha, n);
    this.sign = new Float64Array(buf, this.at.sign, n);
    this.qd = new Float64Array(buf, this.at.qd, n);
  }

  private get fns(): Slot['fns'] {
    if (!this.slot) throw new Error('DenseRows: used after dispose()');
    return this.slot.fns;
  }

  /** out[i] = v·z_i = Σ_j v[j]·x_i[j] + v[p] for every row i (set `v` first). */
  dots(): Float64Array {
    this.fns.dots(this.at.Z, this.n, this.p, this.at.v, this.at.out);
    return this.out;
  }

  /** sum = Σ_i weights[i]·z_i over every row held (set `weights` first): q values, the last Σ weights. */
  weightedSum(): Float64Array {
    this.fns.tdots(this.at.Z, this.n, this.p, this.at.c, this.at.sum);
    return this.sum;
  }

  /**
   * One pass of dual coordinate descent (Hsieh et al. 2008) over the rows in `order`, on the state
   * in `alpha`, `sign`, `qd` and the weights in `v` (q entries, the last for the constant 1), all
   * updated in place. Returns the spread of the projected gradients (the stopping test).
   */
  dualPass(order: ArrayLike<number>, diag: number): number {
    for (let t = 0; t < this.n; t++) this.idx[t] = order[t];
    return this.fns.dualpass(
      this.at.Z,
      this.n,
      this.p,
      this.at.idx,
      this.at.alpha,
      this.at.sign,
      this.at.qd,
      this.at.v,
      diag,
    );
  }

  /** gram += scale · Σ z_i z_iᵀ over the rows i in `which` (indices into the rows held); keeps it symmetric. */
  addOuter(which: ArrayLike<number>, scale = 1): void {
    const m = which.length;
    if (!m) return;
    for (let t = 0; t < m; t++) this.idx[t] = which[t];
    this.fns.outer(this.at.Z, this.p, this.at.idx, m, this.at.S, scale, this.at.zs);
    const S = this.gram,
      q = this.q;
    for (let j = 1; j < q; j++) for (let k = 0; k < j; k++) S[j * q + k] = S[k * q + j];
  }

  /** Return the memory for reuse; the views must not be used afterwards. */
  dispose(): void {
    if (this.slot) release(this.slot);
    this.slot = null;
  }
}
