import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  rdm,
  compareRdms,
  parallelismScore,
  ccgp,
  shatteringDimensionality,
  decodability,
  participationRatio,
  sparsity,
  balancedDichotomies,
  countBalancedDichotomies,
  fitLinearSvm,
  fitRidge,
  accuracyOf,
  minCostAssignment,
} from '../src/metrics/index.js';
import { readJson } from './helpers.js';

const geo = readJson('geometry_fixtures.json') as Record<string, number & number[]>;
const tiny = readJson('tiny_fixtures.json') as Record<string, number & number[]>;

// Conditions p = 0..P−1 with variable i = bit i of p.
const corners = (d: number, lift = false) =>
  Array.from({ length: 2 ** d }, (_, p) => {
    const bits = Array.from({ length: d }, (_, i) => (p >> i) & 1);
    return lift ? [...bits, bits[0] * bits[1]] : bits;
  });
const sideOf = (P: number, f: (p: number) => boolean) => Array.from({ length: P }, (_, p) => p).filter(f);
const square = corners(2),
  lifted = corners(2, true),
  cube = corners(3);
const A = (P: number) => sideOf(P, (p) => (p & 1) === 1);
const B = (P: number) => sideOf(P, (p) => ((p >> 1) & 1) === 1);
const XOR = sideOf(4, (p) => ((p & 1) ^ ((p >> 1) & 1)) === 1);
const PARITY = sideOf(8, (p) => ((p & 1) ^ ((p >> 1) & 1) ^ ((p >> 2) & 1)) === 1);

/** Is the dichotomy linearly separable? A hard-margin-like SVM (C = 1e6) fits it exactly iff so. */
function separable(points: number[][], positive: number[]): boolean {
  const x = Float64Array.from(points.flat());
  const rows = points.map((_, i) => i);
  const y = rows.map((i) => (positive.includes(i) ? 1 : 0));
  const m = fitLinearSvm({ x, p: points[0].length, rows, y }, { C: 1e6, maxIter: 20000, tol: 1e-8 });
  return accuracyOf(m, x, points[0].length, rows, y) === 1;
}

describe('parallelism score against the geometry fixtures', () => {
  it('square: PS(a) = PS(b) = 1, PS(xor) = −1', () => {
    expect(parallelismScore(square, A(4)).value).toBeCloseTo(geo.square_PS_var_a, 12);
    expect(parallelismScore(square, B(4)).value).toBeCloseTo(geo.square_PS_var_b, 12);
    expect(parallelismScore(square, XOR).value).toBeCloseTo(geo.square_PS_xor, 12);
  });
  it('lifted square: PS(a) = 1/√2, PS(xor) = −1/√2', () => {
    expect(parallelismScore(lifted, A(4)).value).toBeCloseTo(geo.lifted_PS_var_a, 12);
    expect(parallelismScore(lifted, XOR).value).toBeCloseTo(geo.lifted_PS_xor, 12);
  });
  it('cube: PS over all 35 balanced dichotomies matches the sorted fixture list', () => {
    const all = balancedDichotomies(8);
    expect(all).toHaveLength(geo.cube_n_balanced_dichotomies);
    const ps = all
      .map((side) => parallelismScore(cube, side))
      .map((r) => {
        expect(r.exact).toBe(true);
        return r.value;
      })
      .sort((a, b) => a - b);
    ps.forEach((v, i) => {
      expect(v).toBeCloseTo(geo.cube_PS_sorted_values_all35[i], 9);
    });
    expect(parallelismScore(cube, A(8)).value).toBeCloseTo(geo.cube_PS_var_a, 12);
    expect(parallelismScore(cube, PARITY).value).toBeCloseTo(geo.cube_PS_parity, 12);
  });
  it('returns the pairing that achieves the maximum', () => {
    const r = parallelismScore(square, A(4));
    expect(r.pairing).toEqual([
      [1, 0],
      [3, 2],
    ]);
    expect(r.method).toBe('max-over-pairings');
  });
  it('beyond 8 conditions per side uses the minimum-distance assignment and says so', () => {
    // 2 variables a, b crossed with 8 levels of a nuisance c: 18 conditions; a's coding vectors are parallel.
    const pts = Array.from({ length: 18 }, (_, p) => {
      const level = Math.floor(p / 2);
      return [p % 2, level * 0.3, (level * 7) % 5];
    });
    const r = parallelismScore(
      pts,
      sideOf(18, (p) => p % 2 === 1).map((p) => p),
    );
    expect(r.exact).toBe(false);
    expect(r.method).toBe('min-distance-assignment');
    expect(r.value).toBeCloseTo(1, 12);
  });
  it('rejects an unbalanced or out-of-range positive side, naming the argument', () => {
    expect(() => parallelismScore(square, [1])).toThrow(
      /positive: received \[1\]; accepted: 2 distinct condition indices in \[0, 3\]/,
    );
    expect(() => parallelismScore(square, [1, 7])).toThrow(/positive/);
    expect(() =>
      parallelismScore(
        [
          [0, 1],
          [1, NaN],
        ],
        [0],
      ),
    ).toThrow(/means\[1, 1\]: received NaN/);
  });
});

describe('linear separability and classifiers', () => {
  it('square: 2 of 3 balanced dichotomies separable; lifted: 3; cube: 7 of 35', () => {
    const count = (pts: number[][], P: number) => balancedDichotomies(P).filter((s) => separable(pts, s)).length;
    expect(count(square, 4)).toBe(geo.square_n_separable_of_3);
    expect(count(lifted, 4)).toBe(geo.lifted_n_separable_of_3);
    expect(count(cube, 8)).toBe(geo.cube_n_linearly_separable_of_35);
    expect(countBalancedDichotomies(8)).toBe(35);
  });
  it('the ridge classifier equals the closed form on a small case (primal and dual paths agree)', () => {
    const pts = [
      [0, 0.1],
      [1, 0.3],
      [0.2, 1],
      [1.1, 0.9],
      [0.5, 0.5],
    ];
    const x = Float64Array.from(pts.flat());
    const y = [0, 1, 0, 1, 1];
    const primal = fitRidge({ x, p: 2, rows: [0, 1, 2, 3, 4], y });
    // The closed form: w = (X_cᵀX_c + I)⁻¹ X_cᵀ (t − t̄), b = t̄ − x̄·w on t = 2y − 1 (numpy; equal to
    // scikit-learn's RidgeClassifier().coef_ and intercept_ on these points).
    expect(primal.w[0]).toBeCloseTo(0.9593718, 6);
    expect(primal.w[1]).toBeCloseTo(-0.07852509, 7);
    expect(primal.b).toBeCloseTo(-0.29327415500170695, 10);
    // Same problem with duplicated features forces nothing; compare with 3 samples (< p when p = 4 via padding).
    const wide = Float64Array.from(pts.flatMap((r) => [...r, 0, 0]));
    const dual = fitRidge({ x: wide, p: 4, rows: [0, 1, 2], y: [0, 1, 0] });
    const prim3 = fitRidge({ x, p: 2, rows: [0, 1, 2], y: [0, 1, 0] });
    expect(dual.w[0]).toBeCloseTo(prim3.w[0], 10);
    expect(dual.w[1]).toBeCloseTo(prim3.w[1], 10);
    expect(dual.b).toBeCloseTo(prim3.b, 10);
    expect(accuracyOf(primal, x, 2, [0, 1, 2, 3, 4], y)).toBeGreaterThanOrEqual(0.8);
  });
  it('the SVM is deterministic given its seed', () => {
    const pts = Array.from({ length: 40 }, (_, i) => [Math.sin(i), Math.cos(3 * i), (i % 5) / 5]);
    const x = Float64Array.from(pts.flat());
    const rows = pts.map((_, i) => i),
      y = rows.map((i) => (Math.sin(i) + Math.cos(3 * i) > 0 ? 1 : 0));
    expect(Array.from(fitLinearSvm({ x, p: 3, rows, y }, { seed: 4 }).w)).toEqual(
      Array.from(fitLinearSvm({ x, p: 3, rows, y }, { seed: 4 }).w),
    );
  });
});

describe('CCGP against the geometry fixtures (centroid data)', () => {
  const conds = (P: number) => Array.from({ length: P }, (_, p) => p);
  it('square: variables generalise across semantic held-out pairs (1), xor does not (0)', () => {
    // Held-out pairs that share the other variable (the README's trap: pairs differing in both lie on the boundary).
    expect(
      ccgp(square, conds(4), A(4), {
        heldOutPairs: [
          [1, 0],
          [3, 2],
        ],
      }).value,
    ).toBe(geo.square_CCGP_var_a_semantic_pairs);
    expect(
      ccgp(square, conds(4), B(4), {
        heldOutPairs: [
          [2, 0],
          [3, 1],
        ],
      }).value,
    ).toBe(geo.square_CCGP_var_b_semantic_pairs);
    expect(ccgp(square, conds(4), XOR).value).toBe(geo.square_CCGP_xor_all_pairs);
    expect(
      ccgp(square, conds(4), XOR, {
        heldOutPairs: [
          [1, 0],
          [2, 3],
        ],
      }).value,
    ).toBe(geo.square_CCGP_xor_semantic_pairs);
  });
  it('cube: a single variable 1, parity 0, averaged over all 16 held-out pairs, with both classifiers', () => {
    for (const classifier of ['svm', 'ridge'] as const) {
      const a = ccgp(cube, conds(8), A(8), { classifier });
      expect(a.accuracies).toHaveLength(16);
      expect(a.value).toBe(geo.cube_CCGP_var_a_all16_splits_centroid);
      expect(ccgp(cube, conds(8), PARITY, { classifier }).value).toBe(geo.cube_CCGP_parity_all16_splits_centroid);
    }
  });
  it('the nearest-pair scheme trains on one pair and tests on the rest', () => {
    const r = ccgp(cube, conds(8), A(8), { scheme: 'nearest-pair' });
    expect(r.scheme).toBe('nearest-pair');
    expect(r.accuracies).toHaveLength(4);
    expect(r.value).toBe(1);
  });
  it('rejects bad input, naming the argument and the rule', () => {
    expect(() => ccgp(square, [0, 1, 2], A(4))).toThrow(
      /conditions.length: received 3; accepted: one condition per sample row, 4/,
    );
    expect(() => ccgp(square, conds(4), [1, 2, 3])).toThrow(
      /positive: received \[1,2,3\]; accepted: 2 distinct condition indices/,
    );
    expect(() => ccgp([[0], [1]], [0, 1], [1])).toThrow(/at least 2 conditions per side/);
    expect(() => ccgp([[0], [NaN], [1], [2]], conds(4), [1, 3])).toThrow(/samples\[1, 0\]: received NaN/);
    expect(() => ccgp(square, conds(4), A(4), { classifier: 'knn' as never })).toThrow(
      /options.classifier: received "knn"; accepted: 'svm', 'ridge'/,
    );
  });
});

describe('shattering dimensionality and decodability', () => {
  // Noisy samples around the cube corners.
  const noisy = (perCondition: number, sigma: number, seed: number) => {
    let s = seed;
    const rand = () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s / 2147483648 - 0.5;
    };
    const samples: number[][] = [],
      conditions: number[] = [];
    for (let p = 0; p < 8; p++)
      for (let i = 0; i < perCondition; i++) {
        samples.push(cube[p].map((v) => v + sigma * rand()));
        conditions.push(p);
      }
    return { samples, conditions };
  };
  it('cube with little noise: the separable 7 of 35 dichotomies are decoded, the others near chance or below', () => {
    const { samples, conditions } = noisy(10, 0.1, 1);
    const r = shatteringDimensionality(samples, conditions, { classifier: 'svm', folds: 5 });
    expect(r.exhaustive).toBe(true);
    expect(r.dichotomies).toHaveLength(35);
    const perfect = r.accuracies.filter((a) => a === 1).length;
    expect(perfect).toBe(7);
    expect(r.value).toBeGreaterThan(0.5);
    expect(r.value).toBeLessThan(0.8);
  });
  it('takes a seeded subset beyond maxDichotomies', () => {
    const { samples, conditions } = noisy(5, 0.1, 2);
    const r = shatteringDimensionality(samples, conditions, { classifier: 'ridge', maxDichotomies: 10, seed: 3 });
    expect(r.dichotomies).toHaveLength(10);
    expect(r.exhaustive).toBe(false);
    expect(
      shatteringDimensionality(samples, conditions, { classifier: 'ridge', maxDichotomies: 10, seed: 3 }).dichotomies,
    ).toEqual(r.dichotomies);
  });
  it('decodes a variable perfectly and parity at or below chance', () => {
    const { samples, conditions } = noisy(10, 0.1, 3);
    expect(decodability(samples, conditions, [0, 1, 0, 1, 0, 1, 0, 1]).value).toBe(1);
    const parity = [0, 1, 1, 0, 1, 0, 0, 1];
    expect(decodability(samples, conditions, parity, { classifier: 'ridge' }).value).toBeLessThan(0.7);
  });
});

describe('participation ratio and sparsity against the fixtures', () => {
  it('eigenvalues (3, 1) give 1.6; square corners 2; cube corners 3', () => {
    const a = Math.sqrt(3);
    expect(
      participationRatio([
        [a, 0],
        [-a, 0],
        [0, 1],
        [0, -1],
      ]),
    ).toBeCloseTo(geo.PR_eigs_3_1, 12);
    expect(participationRatio(square)).toBeCloseTo(geo.PR_square_conditions, 12);
    expect(participationRatio(cube)).toBeCloseTo(geo.PR_cube_conditions, 12);
    // Wide matrices take the other Gram path; the values are numpy's (trace(C)² / sum(C ⊙ C), C = np.cov(X.T)).
    const wide = [
      [1, 0, 0, 0, 2],
      [0, 1, 0, 0, 0],
      [0, 0, 1, 3, 0],
    ];
    expect(participationRatio(wide)).toBeCloseTo(1.615141955835962, 12);
    expect(participationRatio(wide[0].map((_, j) => wide.map((r) => r[j])))).toBeCloseTo(1.6511891279728197, 12);
  });
  it('sparsity is the fraction of active units', () => {
    expect(
      sparsity([
        [0, 1, 2],
        [0, 0, -1],
      ]),
    ).toBeCloseTo(2 / 6, 12);
    expect(
      sparsity(
        [
          [0, 1, 2],
          [0, 0, -1],
        ],
        { absolute: true },
      ),
    ).toBeCloseTo(3 / 6, 12);
  });
});

describe('RSA against the tiny fixtures', () => {
  const x = [[0], [1], [2], [3]],
    y = [[0], [1], [4], [9]];
  it('condensed Euclidean RDMs', () => {
    expect(Array.from(rdm(x, 'euclidean'))).toEqual(tiny.tiny1_rdm_euclid_x);
    expect(Array.from(rdm(y, 'euclidean'))).toEqual(tiny.tiny1_rdm_euclid_y);
    expect(Array.from(rdm(x, 'sqeuclidean'))).toEqual([1, 4, 9, 1, 4, 1]);
  });
  it('Spearman (average ranks), Pearson and Kendall tau-b handle the ties', () => {
    const a = rdm(x),
      b = rdm(y);
    expect(compareRdms(a, b, 'spearman')).toBeCloseTo(tiny.tiny1_rsa_euclid_spearman, 12);
    expect(compareRdms(a, b, 'pearson')).toBeCloseTo(tiny.tiny1_rsa_euclid_pearson, 12);
    expect(compareRdms(a, b, 'kendall')).toBeCloseTo(tiny.tiny1_rsa_euclid_kendall_tau_b, 12);
  });
  it('correlation distance', () => {
    const r = rdm(
      [
        [1, 2, 3],
        [2, 4, 6],
        [3, 2, 1],
      ],
      'correlation',
    );
    expect(r[0]).toBeCloseTo(0, 12);
    expect(r[1]).toBeCloseTo(2, 12);
  });
  it('rejects unknown methods and mismatched lengths', () => {
    expect(() => compareRdms([1, 2], [1, 2, 3])).toThrow(/b.length: received 3; accepted: the length of a, 2/);
    expect(() => compareRdms([1, 2], [1, 2], 'tau' as never)).toThrow(
      /method: received "tau"; accepted: 'pearson', 'spearman', 'kendall', 'cosine'/,
    );
    expect(() => rdm(x, 'cityblock' as never)).toThrow(/metric: received "cityblock"/);
  });
});

describe('metric properties (fast-check)', () => {
  const points = (P: number, H: number) =>
    fc
      .array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: P * H, maxLength: P * H })
      .map((v) => Array.from({ length: P }, (_, i) => v.slice(i * H, (i + 1) * H)));
  const rotate = (m: number[][], angle: number) =>
    m.map(([a, b, ...rest]) => [
      Math.cos(angle) * a - Math.sin(angle) * b,
      Math.sin(angle) * a + Math.cos(angle) * b,
      ...rest,
    ]);
  it('PS lies in [−1, 1] and is invariant to rotating the representation', () => {
    fc.assert(
      fc.property(points(6, 3), fc.double({ min: 0, max: 6.28, noNaN: true }), (m, angle) => {
        // Coding vectors of near-zero length make the cosines ill-conditioned; PS is defined away from them.
        const dist = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]));
        fc.pre([0, 2, 4].every((i) => [1, 3, 5].every((j) => dist(m[i], m[j]) > 0.1)));
        const r = parallelismScore(m, [0, 2, 4]).value;
        expect(r).toBeGreaterThanOrEqual(-1 - 1e-12);
        expect(r).toBeLessThanOrEqual(1 + 1e-12);
        expect(parallelismScore(rotate(m, angle), [0, 2, 4]).value).toBeCloseTo(r, 6);
      }),
      { numRuns: 60 },
    );
  });
  it('CCGP and SD lie in [0, 1]', () => {
    fc.assert(
      fc.property(points(12, 3), (m) => {
        const conditions = m.map((_, i) => i % 4);
        const c = ccgp(m, conditions, [0, 1], { classifier: 'ridge' }).value;
        const s = shatteringDimensionality(m, conditions, { classifier: 'ridge', folds: 3 }).value;
        for (const v of [c, s]) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 40 },
    );
  });
  it('the RDM comparators are symmetric', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 6, maxLength: 6 }),
        (a, b) => {
          fc.pre(new Set(a).size > 1 && new Set(b).size > 1);
          for (const m of ['pearson', 'spearman', 'kendall', 'cosine'] as const)
            expect(compareRdms(a, b, m)).toBeCloseTo(compareRdms(b, a, m), 12);
        },
      ),
    );
  });
  it('the assignment is optimal (against brute force on small matrices)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 16, maxLength: 16 }), (c) => {
        const match = minCostAssignment(c, 4);
        const cost = (perm: ArrayLike<number>) => Array.from(perm).reduce((s, j, i) => s + c[i * 4 + j], 0);
        let best = Infinity;
        const perms = (arr: number[]): number[][] =>
          arr.length <= 1
            ? [arr]
            : arr.flatMap((v, i) => perms([...arr.slice(0, i), ...arr.slice(i + 1)]).map((p) => [v, ...p]));
        for (const p of perms([0, 1, 2, 3])) best = Math.min(best, cost(p));
        expect(cost(match)).toBe(best);
      }),
    );
  });
});

/** 400 rows, 5 features, overlapping classes (more rows than features: the Newton path), from a seeded LCG. */
function overlapping(seed: number) {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const n = 400,
    p = 5;
  const x = Float64Array.from({ length: n * p }, rand);
  const rows = Array.from({ length: n }, (_, i) => i);
  const y = rows.map((i) => (x[i * p] + 0.8 * rand() > 0 ? 1 : 0));
  return { x, p, rows, y };
}

describe('SVM options are honoured', () => {
  it('tol reaches the primal Newton solver: a loose tolerance stops earlier, at a different point', () => {
    const { x, p, rows, y } = overlapping(11);
    const tight = fitLinearSvm({ x, p, rows, y }, { tol: 1e-8 });
    const loose = fitLinearSvm({ x, p, rows, y }, { tol: 0.5 });
    const same = fitLinearSvm({ x, p, rows, y }, { tol: 1e-8 });
    expect(Array.from(same.w)).toEqual(Array.from(tight.w));
    expect(Array.from(loose.w)).not.toEqual(Array.from(tight.w));
  });
  it('fits say whether they converged: true at the stopping rule, false at the iteration limit', () => {
    // n > p + 1: dual passes, then Newton steps.
    const { x, p, rows, y } = overlapping(5);
    const full = fitLinearSvm({ x, p, rows, y });
    expect(full).toMatchObject({ converged: true });
    expect(full.iterations).toBeGreaterThan(0);
    const capped = fitLinearSvm({ x, p, rows, y }, { maxIter: 1, maxNewtonSteps: 1, tol: 1e-12 });
    // One dual pass, then one Newton step.
    expect(capped).toMatchObject({ converged: false, iterations: 2 });
    // n <= p + 1: the dual solver alone, capped at one pass.
    const few = { x, p, rows: rows.slice(0, 5), y: y.slice(0, 5) };
    expect(fitLinearSvm(few)).toMatchObject({ converged: true });
    expect(fitLinearSvm(few, { maxIter: 1, tol: 1e-12 })).toMatchObject({ converged: false, iterations: 1 });
    expect(fitRidge({ x, p, rows, y })).toMatchObject({ converged: true, iterations: 0 });
  });
  it('the decoding metrics count their fits and the unconverged ones', () => {
    const samples = [
      [0, 0],
      [0.1, 0],
      [1, 0],
      [1.1, 0],
      [0, 1],
      [0.1, 1],
      [1, 1],
      [1.1, 1],
    ];
    const conditions = [0, 0, 1, 1, 2, 2, 3, 3];
    const r = ccgp(samples, conditions, [0, 2]);
    expect(r.fits).toEqual({ fits: 4, unconverged: 0 });
    expect(shatteringDimensionality(samples, conditions, { folds: 2 }).fits).toEqual({ fits: 2 * 3, unconverged: 0 });
  });
});
