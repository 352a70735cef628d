import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DenseRows } from '../src/kernels/dense-rows.js';
import { affine } from '../src/kernels/affine.js';
import { choleskySolve } from '../src/kernels/cholesky.js';
import { Rng } from '../src/random.js';

/** The plain float64 loops the kernels replace. */
const ref = {
  dots(x: Float64Array, p: number, rows: number[], v: Float64Array) {
    return rows.map((r) => {
      let s = v[p];
      for (let j = 0; j < p; j++) s += v[j] * x[r * p + j];
      return s;
    });
  },
  gram(x: Float64Array, p: number, rows: number[], scale: number) {
    const q = p + 1,
      S = new Float64Array(q * q);
    for (const r of rows)
      for (let j = 0; j < q; j++)
        for (let k = 0; k < q; k++) {
          S[j * q + k] += scale * (j < p ? x[r * p + j] : 1) * (k < p ? x[r * p + k] : 1);
        }
    return S;
  },
};

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i])));
};

describe('the f64x2 kernels', () => {
  it('compute margins, weighted row sums and Gram updates as the plain loops do, for any shape and row subset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        (p, n, seed, scale) => {
          const rng = new Rng(seed);
          const total = n + 5;
          const x = rng.fillNormal(new Float64Array(total * p), 1);
          const rows = Array.from({ length: n }, () => rng.int(total));
          const d = new DenseRows(x, p, rows);
          try {
            d.v.set(rng.fillNormal(new Float64Array(p + 1), 1));
            close(d.dots(), ref.dots(x, p, rows, d.v), 1e-12);
            const c = rng.fillNormal(new Float64Array(n), 1);
            d.weights.set(c);
            const want = new Float64Array(p + 1);
            rows.forEach((r, i) => {
              for (let j = 0; j < p; j++) want[j] += c[i] * x[r * p + j];
              want[p] += c[i];
            });
            close(d.weightedSum(), want, 1e-12);
            const which = Array.from({ length: rng.int(n) + 1 }, () => rng.int(n));
            d.gram.fill(0);
            d.addOuter(which, scale);
            close(
              d.gram,
              ref.gram(
                x,
                p,
                which.map((i) => rows[i]),
                scale,
              ),
              1e-12,
            );
          } finally {
            d.dispose();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('runs dual coordinate-descent passes as the plain loop does', () => {
    for (const [n, p] of [
      [30, 5],
      [12, 1],
      [40, 16],
    ]) {
      const rng = new Rng(n + p);
      const x = rng.fillNormal(new Float64Array(n * p), 1);
      const rows = Array.from({ length: n }, (_, i) => i);
      const sign = Float64Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 1 : -1));
      const diag = 0.5;
      const qd = Float64Array.from({ length: n }, (_, i) => {
        let s = 1 + diag;
        for (let j = 0; j < p; j++) s += x[i * p + j] ** 2;
        return s;
      });
      const d = new DenseRows(x, p, rows);
      d.alpha.fill(0);
      d.v.fill(0);
      d.sign.set(sign);
      d.qd.set(qd);
      // the reference: Hsieh et al.'s pass, in plain JavaScript
      const alpha = new Float64Array(n),
        w = new Float64Array(p + 1);
      for (let pass = 0; pass < 5; pass++) {
        const order = Array.from({ length: n }, (_, i) => (i * 7 + pass) % n);
        let hi = -Infinity,
          lo = Infinity;
        for (const i of order) {
          let f = w[p];
          for (let j = 0; j < p; j++) f += w[j] * x[i * p + j];
          const G = sign[i] * f - 1 + diag * alpha[i];
          const pg = alpha[i] === 0 ? Math.min(G, 0) : G;
          hi = Math.max(hi, pg);
          lo = Math.min(lo, pg);
          if (pg !== 0) {
            const old = alpha[i];
            alpha[i] = Math.max(old - G / qd[i], 0);
            const dd = (alpha[i] - old) * sign[i];
            for (let j = 0; j < p; j++) w[j] += dd * x[i * p + j];
            w[p] += dd;
          }
        }
        expect(d.dualPass(order, diag)).toBeCloseTo(hi - lo, 10);
        close(d.alpha, alpha, 1e-10);
        close(d.v, w, 1e-10);
      }
      d.dispose();
    }
  });

  it('reuse memory across instances without carrying anything over', () => {
    const rng = new Rng(3);
    const big = new DenseRows(
      rng.fillNormal(new Float64Array(300 * 50), 1),
      50,
      Array.from({ length: 300 }, (_, i) => i),
    );
    big.gram.fill(7);
    big.dispose();
    const x = rng.fillNormal(new Float64Array(4 * 3), 1);
    const small = new DenseRows(x, 3, [0, 1, 2, 3]);
    small.gram.fill(0);
    small.addOuter([0, 1, 2, 3]);
    close(small.gram, ref.gram(x, 3, [0, 1, 2, 3], 1), 1e-12);
    small.dispose();
    expect(() => small.dots()).toThrow(/after dispose/);
  });

  it('compute X Wᵀ + b, for odd and even sizes and float32 weights', () => {
    for (const [n, k, m] of [
      [1, 1, 1],
      [3, 7, 5],
      [10, 100, 128],
      [4, 2, 3],
    ]) {
      const rng = new Rng(n * 100 + k);
      const X = rng.fillNormal(new Float64Array(n * k), 1);
      const W = rng.fillNormal(new Float32Array(m * k), 1);
      const b = rng.fillNormal(new Float32Array(m), 1);
      const want = new Float64Array(n * m);
      for (let r = 0; r < n; r++)
        for (let i = 0; i < m; i++) {
          let s = b[i];
          for (let j = 0; j < k; j++) s += X[r * k + j] * W[i * k + j];
          want[r * m + i] = s;
        }
      close(affine(X, n, k, W, m, b), want, 1e-12);
    }
  });

  it('solve symmetric positive definite systems, leaving A unchanged', () => {
    for (const n of [1, 2, 5, 129]) {
      const rng = new Rng(n);
      const B = rng.fillNormal(new Float64Array(n * n), 1);
      const A = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let s = i === j ? n : 0;
          for (let k = 0; k < n; k++) s += B[i * n + k] * B[j * n + k];
          A[i * n + j] = s;
        }
      const z0 = rng.fillNormal(new Float64Array(n), 1);
      const r = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) r[i] += A[i * n + j] * z0[j];
      const before = A.slice();
      close(choleskySolve(A, r, n), z0, 1e-10);
      expect(A).toEqual(before);
    }
  });
});
