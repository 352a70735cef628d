import { acquire, align16, release } from './module.js';

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
    release(slot);
  }
}
