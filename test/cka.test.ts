import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { debiasedCKA, kernelAlignment, linearCKA, rbfCKA, gram } from '../src/metrics/index.js';
import { readCsv, readJson } from './helpers.js';
import type { Matrix } from '../src/types.js';

const X = readCsv('kornblith_seed1337_X.csv');
const Y = readCsv('kornblith_seed1337_Y.csv');
const kornblith = readJson('kornblith_seed1337_values.json') as Record<string, number>;
const tiny = readJson('tiny_fixtures.json') as Record<string, number>;

describe('CKA against the shared fixtures (float64, 1e-6)', () => {
  it('reads the 100 × 10 fixture matrices', () => {
    expect(X.length).toBe(100);
    expect(X.every((r) => r.length === 10)).toBe(true);
    expect(Y.length).toBe(100);
  });
  it('linear CKA (biased HSIC) matches Kornblith et al.', () => {
    expect(linearCKA(X, Y)).toBeCloseTo(kornblith.cka_linear_biased, 6);
  });
  it('RBF CKA with threshold 0.5 matches', () => {
    expect(rbfCKA(X, Y, { threshold: 0.5 })).toBeCloseTo(kornblith['cka_rbf_threshold0.5_median_biased'], 6);
  });
  it('debiased CKA (Song et al. unbiased HSIC) matches', () => {
    expect(debiasedCKA(X, Y)).toBeCloseTo(kornblith.cka_linear_debiased, 6);
  });
  it('tiny1: linear CKA of x and x² is 45/49, debiased as fixed', () => {
    const x = [[0], [1], [2], [3]];
    const y = [[0], [1], [4], [9]];
    expect(linearCKA(x, y)).toBeCloseTo(45 / 49, 12);
    expect(linearCKA(x, y)).toBeCloseTo(tiny.tiny1_cka_linear_biased, 9);
    expect(debiasedCKA(x, y)).toBeCloseTo(tiny.tiny1_cka_linear_debiased_song, 9);
  });
  it('float32 input gives the float64 answer to 1e-4', () => {
    const toF32 = (m: number[][]): Matrix => ({ rows: m.length, cols: m[0].length, data: Float32Array.from(m.flat()) });
    expect(linearCKA(toF32(X), toF32(Y))).toBeCloseTo(kornblith.cka_linear_biased, 4);
  });
  it('kernelAlignment on linear kernels equals linear CKA', () => {
    const toM = (m: number[][]): Matrix => ({ rows: m.length, cols: m[0].length, data: Float64Array.from(m.flat()) });
    expect(kernelAlignment(gram(toM(X)), gram(toM(Y)))).toBeCloseTo(linearCKA(X, Y), 12);
  });
  it('the Gram and feature-space paths agree (wide and tall matrices)', () => {
    const tall = X; // 100 × 10: feature-space path
    const wide = X.slice(0, 5); // 5 × 10: Gram path
    const tallY = Y;
    const wideY = Y.slice(0, 5);
    const toM = (m: number[][]): Matrix => ({ rows: m.length, cols: m[0].length, data: Float64Array.from(m.flat()) });
    expect(linearCKA(tall, tallY)).toBeCloseTo(kernelAlignment(gram(toM(tall)), gram(toM(tallY))), 12);
    expect(linearCKA(wide, wideY)).toBeCloseTo(kernelAlignment(gram(toM(wide)), gram(toM(wideY))), 12);
  });
  it('rejects mismatched rows and NaN, naming the argument', () => {
    expect(() => linearCKA([[1], [2], [3]], [[1], [2]])).toThrow(
      /Y.rows: received 2; accepted: the same number of rows/,
    );
    expect(() => linearCKA([[1], [NaN], [3]], [[1], [2], [3]])).toThrow(
      /X\[1, 0\]: received NaN; accepted: finite numbers only/,
    );
  });
});

/** A random n × p matrix from fast-check. */
const matrixArb = (n: number, p: number) =>
  fc
    .array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n * p, maxLength: n * p })
    .map((v) => Array.from({ length: n }, (_, i) => v.slice(i * p, (i + 1) * p)));

/** A random orthogonal p × p matrix (QR of a Gaussian-ish matrix by Gram–Schmidt). */
function orthogonal(seedVals: number[], p: number): number[][] {
  const q: number[][] = [];
  for (let i = 0; i < p; i++) {
    let v = Array.from({ length: p }, (_, j) => seedVals[(i * p + j) % seedVals.length] + (i === j ? 3 : 0));
    for (const u of q) {
      const d = u.reduce((s, x, j) => s + x * v[j], 0);
      v = v.map((x, j) => x - d * u[j]);
    }
    const n = Math.hypot(...v);
    q.push(v.map((x) => x / n));
  }
  return q;
}

const mul = (a: number[][], b: number[][]) =>
  a.map((r) => b[0].map((_, j) => r.reduce((s, x, k) => s + x * b[k][j], 0)));
const spread = (m: number[][]) => Math.max(...m.flat()) - Math.min(...m.flat());

describe('CKA properties (fast-check)', () => {
  it('is 1 for a matrix with itself', () => {
    fc.assert(
      fc.property(matrixArb(6, 3), (m) => {
        fc.pre(spread(m) > 1e-3);
        expect(linearCKA(m, m)).toBeCloseTo(1, 9);
      }),
    );
  });
  it('is invariant to orthogonal transforms and isotropic scaling', () => {
    fc.assert(
      fc.property(
        matrixArb(7, 4),
        matrixArb(7, 3),
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 16, maxLength: 16 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        (a, b, qs, s) => {
          fc.pre(spread(a) > 1e-2 && spread(b) > 1e-2);
          const base = linearCKA(a, b);
          fc.pre(Number.isFinite(base));
          const rotated = mul(a, orthogonal(qs, 4)).map((r) => r.map((x) => x * s));
          expect(linearCKA(rotated, b)).toBeCloseTo(base, 7);
        },
      ),
    );
  });
  it('is not invariant to a general linear map', () => {
    const a = [
      [1, 0],
      [0, 1],
      [-1, 0],
      [0, -1],
      [1, 1],
    ];
    const b = [
      [1, 0],
      [0, 2],
      [-1, 0],
      [0, -2],
      [3, 1],
    ];
    const stretch = [
      [1, 0],
      [0, 10],
    ];
    expect(Math.abs(linearCKA(mul(a, stretch), b) - linearCKA(a, b))).toBeGreaterThan(1e-3);
  });
  it('lies in [0, 1]', () => {
    fc.assert(
      fc.property(matrixArb(5, 3), matrixArb(5, 2), (a, b) => {
        fc.pre(spread(a) > 1e-3 && spread(b) > 1e-3);
        const v = linearCKA(a, b);
        expect(v).toBeGreaterThanOrEqual(-1e-12);
        expect(v).toBeLessThanOrEqual(1 + 1e-12);
      }),
    );
  });
});

describe('tiny3: CKA is not invariant to anisotropic scaling', () => {
  it('linear CKA of the stored tiny3_X against tiny3_Y = X · diag(1, 3)', () => {
    const X3 = tiny.tiny3_X as unknown as number[][],
      Y3 = tiny.tiny3_Y as unknown as number[][];
    Y3.forEach((row, i) => {
      expect(row).toEqual([X3[i][0], 3 * X3[i][1]]);
    });
    expect(linearCKA(X3, Y3)).toBeCloseTo(tiny.tiny3_cka_X_vs_X_diag_1_3, 12);
    expect(linearCKA(X3, Y3)).toBeLessThan(1);
  });
});

describe('the other similarity measures of the fixtures', () => {
  it('mean squared CCA on the Kornblith pair: uncentered (the notebook) and centered', async () => {
    const { meanSquaredCCA } = await import('../src/metrics/index.js');
    expect(meanSquaredCCA(X, Y, { center: false })).toBeCloseTo(kornblith.mean_squared_cca_uncentered_qr, 9);
    expect(meanSquaredCCA(X, Y)).toBeCloseTo(kornblith.mean_squared_cca_centered, 9);
  });
  it('normalized Bures similarity and Procrustes distances on tiny1; similarity transform on tiny2', async () => {
    const { normalizedBuresSimilarity, procrustes } = await import('../src/metrics/index.js');
    const x = [[0], [1], [2], [3]],
      y = [[0], [1], [4], [9]];
    expect(normalizedBuresSimilarity(x, y)).toBeCloseTo(tiny.tiny1_nbs, 12);
    expect(normalizedBuresSimilarity(x, y)).toBeCloseTo(15 / Math.sqrt(245), 12);
    const p = procrustes(x, y);
    expect(p.squaredEuclidean).toBeCloseTo(tiny.tiny1_procrustes_sq_euclid, 9);
    expect(p.angular).toBeCloseTo(tiny.tiny1_procrustes_angular, 9);
    // tiny2: a square against a similarity transform of itself (rotation, isotropic scaling, translation).
    const square = [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
    ];
    const moved = square.map(([a, b]) => [2 * (0.6 * a - 0.8 * b) + 5, 2 * (0.8 * a + 0.6 * b) - 1]);
    expect(linearCKA(square, moved)).toBeCloseTo(tiny.tiny2_cka_square_vs_similarity_transform, 12);
    expect(normalizedBuresSimilarity(square, moved)).toBeCloseTo(tiny.tiny2_nbs_square_vs_similarity_transform, 12);
  });
  it('Kendall tau-a and Spearman rho-a (tie-sensitive, rsatoolbox) on the tiny1 RDMs', async () => {
    const { compareRdms, rdm } = await import('../src/metrics/index.js');
    const a = rdm([[0], [1], [2], [3]]),
      b = rdm([[0], [1], [4], [9]]);
    expect(compareRdms(a, b, 'tau-a')).toBeCloseTo(tiny.tiny1_rsa_euclid_kendall_tau_a, 12);
    expect(compareRdms(a, b, 'rho-a')).toBeCloseTo(tiny.tiny1_rsa_euclid_rho_a, 12);
  });
});
