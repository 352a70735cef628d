/**
 * The training kernel's memory, for one ensemble shape.
 *
 * Memory layout (float32, row-major, every region 16-byte aligned; see `kernelLayout`):
 *   the parameters, one contiguous block (Adam's m and v are laid out as it, at fixed offsets):
 *     W [Np, Ms]       first-layer weights; column s·Hp + i is neuron i of network s
 *     b1 [M]           first-layer biases
 *     per hidden layer l = 2..depth:
 *       Wd [Hp, Ms]    row i, column s·Hp + j: the weight from neuron i to neuron j of network s
 *       bd [M]         biases
 *     b2 [S, K]        readout biases
 *     Jt [S, K, Hp]    readouts, transposed (one contiguous row per output)
 *   WdT [Hp, Ms]       per hidden layer l ≥ 2: Wd transposed within each network (row j, column
 *                      s·Hp + i), kept for the backward pass's δ·Wᵀ
 *   with Adam: the m and v blocks, each laid out as the parameter block
 *   X [R, Np]          the minibatch (rows beyond the batch and columns beyond N are zero)
 *   Hb [depth][R, Ms]  activity of each hidden layer; `backward` overwrites it with ∂L/∂z
 *   F [depth][R, Ms]   f′ of each layer, for activations whose f′ is not an accurate function of f (softplus, gelu)
 *   L [R, S, K]        logits
 *   G [R, S, K]        the output error, already scaled (−lr/(B·K) for SGD, 1/(B·K) for Adam)
 *   dJt [S, K, Hp]     the readout's update (SGD) or gradient (Adam)
 *   mask [M]           all-ones bits in each network's first H columns, zero in its padding
 * Np = N rounded up to 4, Hp = H rounded up to 4 (to 8 for deeper networks, so that no 8-column
 * block spans two networks), M = S·Hp rounded up to 8, R = rows rounded up to 4.
 * Padding columns have zero weights and zero readout, and their activity is masked to zero (f(0)
 * is not 0 for every activation), so they never reach a logit or a gradient; the tail beyond S·Hp
 * of ∂L/∂z is zeroed explicitly.
 */

export interface KernelShape {
  S: number;
  N: number;
  H: number;
  K: number;
  /** Hidden layers of width H. */
  depth: number;
  /** Largest number of rows per call (the minibatch size, or an evaluation chunk). */
  rows: number;
  /** Train the readout (Jt) too; b2 always trains. */
  trainReadout: boolean;
  optimizer: 'sgd' | 'adam';
  /** The activation's f′ is computed with f and stored (F), rather than recomputed from f. */
  storedDerivative: boolean;
}

export interface KernelLayout {
  Np: number;
  Hp: number;
  M: number;
  R: number;
  /** Row stride (floats) of W, Wd and Hb: ≥ M, and an odd number of 64-byte lines (see kernelLayout). */
  Ms: number;
  /** Byte offsets of the regions. */
  W: number;
  b1: number;
  deep: Array<{ W: number; b: number; WT: number }>;
  b2: number;
  Jt: number;
  /** Adam's moments (null for SGD): a parameter at byte p has its m at m + p and its v at v + p. */
  m: number | null;
  v: number | null;
  X: number;
  /** Hb of layer l (0-based); F[l] = Hb[l] + fOffset when the derivative is stored. */
  Hb: number[];
  fOffset: number | null;
  L: number;
  G: number;
  dJt: number;
  /** null when no network has padding columns (H = Hp). */
  mask: number | null;
  bytes: number;
}

const up = (n: number, m: number) => Math.ceil(n / m) * m;

export function kernelLayout(shape: KernelShape): KernelLayout {
  const { S, K, depth } = shape;
  const Np = up(shape.N, 4),
    Hp = up(shape.H, depth > 1 ? 8 : 4),
    M = up(S * Hp, 8),
    R = up(shape.rows, 4);
  // The matmuls walk W and Hb down their columns; with a row stride of a power-of-two number of
  // cache lines (1280 floats = 80 lines) those rows share a few L1 sets and evict each other
  // (measured: a 4 × 8 block's 100 rows of W did not stay in L1). An odd number of lines spreads them.
  const Ms = M % 32 === 16 ? M : up(M, 32) + 16;
  const SK = S * K;
  let at = 0;
  const take = (floats: number) => {
    const o = at;
    at += up(floats, 4) * 4;
    return o;
  };
  const W = take(Np * Ms),
    b1 = take(M);
  const deepParams = Array.from({ length: depth - 1 }, () => ({ W: take(Hp * Ms), b: take(M) }));
  const b2 = take(SK);
  const Jt = take(SK * Hp);
  const paramBytes = at;
  const deep = deepParams.map((d) => ({ ...d, WT: take(Hp * Ms) }));
  const adam = shape.optimizer === 'adam';
  const m = adam ? take(paramBytes / 4) : null;
  const v = adam ? take(paramBytes / 4) : null;
  const X = take(R * Np);
  const Hb = Array.from({ length: depth }, () => take(R * Ms));
  let fOffset: number | null = null;
  if (shape.storedDerivative) {
    const F0 = take(R * Ms);
    for (let l = 1; l < depth; l++) take(R * Ms);
    fOffset = F0 - Hb[0];
  }
  const L = take(R * SK),
    G = take(R * SK);
  const dJt = take(SK * Hp);
  const mask = Hp > shape.H ? take(M) : null;
  return {
    Np,
    Hp,
    M,
    Ms,
    R,
    W,
    b1,
    deep,
    b2,
    Jt,
    m,
    v,
    X,
    Hb,
    fOffset,
    L,
    G,
    dJt,
    mask,
    bytes: at,
  };
}
