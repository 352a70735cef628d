import { acquire, align16, release } from './module.js';

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
    release(slot);
  }
}
