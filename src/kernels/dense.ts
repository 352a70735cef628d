/**
 * `DenseRows`: a compact float64 copy of chosen rows of a data matrix, with the two passes the
 * classifiers make over it most — margins (z_i·v for every row) and Gram updates (S += s·Σ z zᵀ
 * over a subset of rows), z_i = (x_i, 1) — in WebAssembly SIMD (f64x2).
 *
 * (also `weightedSum`, Σ c_i z_i.) Why: these loops, and the Cholesky solve of each Newton step (`choleskySolve`, also here), are
 * most of a linear SVM fit, and plain JavaScript ran them at ~1 GFLOP/s; the f64x2 kernels run the
 * margins ~6× and the Gram updates ~8× faster (measured on 4000 × 128).
 * The module is built from dense.wat at build time (scripts/build-wasm.mjs) and compiled
 * synchronously on first use, so importing the metrics needs no assembler and no top-level await. The arithmetic is
 * the same float64 sums in another order (pairs of lanes), so results agree to rounding.
 */
import { readFileSync } from 'node:fs';

let compiled: WebAssembly.Module | null = null;

/** The compiled kernels, built from dense.wat (`npm run build:wasm`, run by `prepare`). */
function kernels(): WebAssembly.Module {
  if (compiled) return compiled;
  const url = new URL('./dense.wasm', import.meta.url);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(url);
  } catch (e) {
    throw new Error(
      `geomstream: ${url.pathname} is missing; build it with \`npm run build:wasm\` (${(e as Error).message})`,
    );
  }
  return (compiled = new WebAssembly.Module(bytes));
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/**
 * Module instances with their memories, reused: allocating a fresh WebAssembly memory for every
 * fit (a few MB, zero-filled, page-faulted in) cost more than the fit's arithmetic.
 */
interface Slot {
  memory: WebAssembly.Memory;
  fns: {
    dots: (...a: number[]) => void;
    outer: (...a: number[]) => void;
    cholsolve: (...a: number[]) => void;
    affine: (...a: number[]) => void;
    tdots: (...a: number[]) => void;
    dualpass: (...a: number[]) => number;
  };
}
const free: Slot[] = [];

function acquire(bytes: number): Slot {
  const slot =
    free.pop() ??
    (() => {
      const memory = new WebAssembly.Memory({ initial: 1 });
      return {
        memory,
        fns: new WebAssembly.Instance(kernels(), { env: { memory } }).exports as unknown as Slot['fns'],
      };
    })();
  const have = slot.memory.buffer.byteLength;
  if (have < bytes) slot.memory.grow(Math.ceil((bytes - have) / 65536));
  return slot;
}

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
    if (this.slot) free.push(this.slot);
    this.slot = null;
  }
}

/**
 * Solve A z = r for a symmetric positive definite n × n matrix A (row-major) by Cholesky
 * factorisation (A = L Lᵀ, pivots clamped at 1e-300), in the f64x2 kernel. A is not modified.
 */
export function choleskySolve(A: Float64Array, r: Float64Array, n: number): Float64Array {
  const a = 0,
    rr = align16(8 * n * n),
    z = rr + align16(8 * n);
  const slot = acquire(z + align16(8 * n));
  try {
    const buf = slot.memory.buffer;
    new Float64Array(buf, a, n * n).set(A.subarray(0, n * n));
    new Float64Array(buf, rr, n).set(r.subarray(0, n));
    slot.fns.cholsolve(a, n, rr, z);
    return new Float64Array(buf, z, n).slice();
  } finally {
    free.push(slot);
  }
}

/**
 * X Wᵀ + b in float64: X n × k, W m × k (row-major, any numeric array, e.g. a network's float32
 * weights), b of length m; returns n × m. The probe's forward pass (engine/forward.ts).
 */
export function affine(
  X: Float64Array,
  n: number,
  k: number,
  W: ArrayLike<number>,
  m: number,
  b: ArrayLike<number>,
): Float64Array {
  if (n === 0 || m === 0) return new Float64Array(n * m);
  const x = 0,
    w = align16(8 * n * k),
    bb = w + align16(8 * m * k),
    out = bb + align16(8 * m);
  const slot = acquire(out + align16(8 * n * m));
  try {
    const buf = slot.memory.buffer;
    new Float64Array(buf, x, n * k).set(X.subarray(0, n * k));
    new Float64Array(buf, w, m * k).set(W as ArrayLike<number>);
    new Float64Array(buf, bb, m).set(b as ArrayLike<number>);
    slot.fns.affine(x, n, k, w, m, bb, out);
    return new Float64Array(buf, out, n * m).slice();
  } finally {
    free.push(slot);
  }
}
