/**
 * The training kernel's memory, for one ensemble shape.
 *
 * Memory layout (float32, row-major, every region 16-byte aligned; see `kernelLayout`):
 *   W [Np, M]      first-layer weights; column s·Hp + i is neuron i of network s
 *   b1 [M]         first-layer biases
 *   Jt [S, K, Hp]  readouts, transposed (one contiguous row per output)
 *   b2 [S, K]      readout biases
 *   X [R, Np]      the minibatch (rows beyond the batch and columns beyond N are zero)
 *   Hb [R, M]      hidden activity; `backward` overwrites it with ∂L/∂z
 *   L [R, S, K]    logits
 *   G [R, S, K]    the output error, already scaled by −lr/(B·K) (the caller writes it)
 *   dJt [S, K, Hp] scratch for the readout's update
 * Np = N rounded up to 4, Hp = H rounded up to 4, M = S·Hp rounded up to 8, R = rows rounded up to 4.
 * Padding columns have zero weights and zero readout, so they never reach a logit, and their ∂L/∂z
 * is zero (the tail beyond S·Hp is zeroed explicitly), so they never reach a weight.
 */

export interface KernelShape {
  S: number;
  N: number;
  H: number;
  K: number;
  /** Largest number of rows per call (the minibatch size, or an evaluation chunk). */
  rows: number;
  /** Train the readout (Jt) too; b2 always trains. */
  trainReadout: boolean;
}

export interface KernelLayout {
  Np: number;
  Hp: number;
  M: number;
  R: number;
  /** Row stride (floats) of W and Hb: ≥ M, and an odd number of 64-byte lines (see kernelLayout). */
  Ms: number;
  /** Byte offsets of the regions. */
  W: number;
  b1: number;
  Jt: number;
  b2: number;
  X: number;
  Hb: number;
  L: number;
  G: number;
  dJt: number;
  bytes: number;
}

const up = (n: number, m: number) => Math.ceil(n / m) * m;

export function kernelLayout(shape: KernelShape): KernelLayout {
  const Np = up(shape.N, 4),
    Hp = up(shape.H, 4),
    M = up(shape.S * Hp, 8),
    R = up(shape.rows, 4);
  // The matmuls walk W and Hb down their columns; with a row stride of a power-of-two number of
  // cache lines (1280 floats = 80 lines) those rows share a few L1 sets and evict each other
  // (measured: a 4 × 8 block's 100 rows of W did not stay in L1). An odd number of lines spreads them.
  const Ms = M % 32 === 16 ? M : up(M, 32) + 16;
  const SK = shape.S * shape.K;
  let at = 0;
  const take = (floats: number) => {
    const o = at;
    at += up(floats, 4) * 4;
    return o;
  };
  const W = take(Np * Ms),
    b1 = take(M),
    Jt = take(SK * Hp),
    b2 = take(SK),
    X = take(R * Np),
    Hb = take(R * Ms),
    L = take(R * SK),
    G = take(R * SK),
    dJt = take(SK * Hp);
  return { Np, Hp, M, Ms, R, W, b1, Jt, b2, X, Hb, L, G, dJt, bytes: at };
}
