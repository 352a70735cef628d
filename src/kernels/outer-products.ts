import { DenseRows } from './dense-rows.js';

/**
 * Σ scale · z zᵀ over the rows of x (z = (x_i, 1)), full (p+1) × (p+1), added into `out`: the
 * per-fold Gram sums of cross-validation and the ridge classifier's normal equations. Runs in
 * the f64x2 WebAssembly kernel of `DenseRows`.
 */
export function addOuterProducts(
  x: Float64Array,
  p: number,
  rows: ArrayLike<number>,
  out: Float64Array,
  scale = 1,
): Float64Array {
  const dense = new DenseRows(x, p, rows);
  try {
    dense.gram.set(out);
    dense.addOuter(
      Int32Array.from({ length: rows.length }, (_, i) => i),
      scale,
    );
    out.set(dense.gram);
    return out;
  } finally {
    dense.dispose();
  }
}
