/**
 * Representational dissimilarity matrices and their comparison (RSA; Kriegeskorte et al. 2008,
 * conventions of rsatoolbox / scipy): computing an RDM is separate from comparing two.
 */
import type { MatrixLike } from '../types.js';
import { requireFinite, toMatrix } from './matrix.js';
import { ConfigError } from '../errors.js';

export type RdmMetric = 'euclidean' | 'sqeuclidean' | 'correlation';
export type RdmComparison = 'pearson' | 'spearman' | 'kendall' | 'cosine' | 'tau-a' | 'rho-a';

export const RDM_METRICS: readonly RdmMetric[] = ['euclidean', 'sqeuclidean', 'correlation'];
export const RDM_COMPARISONS: readonly RdmComparison[] = ['pearson', 'spearman', 'kendall', 'cosine', 'tau-a', 'rho-a'];

/**
 * The condensed RDM of the rows of X (conditions × features): the upper triangle, row-major
 * (d(0,1), d(0,2), …, d(1,2), …), as scipy's `pdist`. 'euclidean' ‖a − b‖, 'sqeuclidean' ‖a − b‖²,
 * 'correlation' 1 − Pearson r of the two rows (NaN for a constant row).
 */
export function rdm(X: MatrixLike, metric: RdmMetric = 'euclidean'): Float64Array {
  if (!RDM_METRICS.includes(metric))
    throw new ConfigError('metric', metric, RDM_METRICS.map((m) => `'${m}'`).join(', '));
  const x = toMatrix(X, 'X');
  requireFinite(x, 'X');
  const { rows: n, cols: p, data } = x;
  if (n < 2) throw new ConfigError('X.rows', n, 'at least 2 conditions');
  let rowsData = data;
  if (metric === 'correlation') {
    rowsData = new Float64Array(data);
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let j = 0; j < p; j++) m += rowsData[i * p + j] / p;
      let ss = 0;
      for (let j = 0; j < p; j++) {
        rowsData[i * p + j] -= m;
        ss += rowsData[i * p + j] ** 2;
      }
      const norm = Math.sqrt(ss);
      for (let j = 0; j < p; j++) rowsData[i * p + j] /= norm;
    }
  }
  const out = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let l = i + 1; l < n; l++) {
      let s = 0;
      if (metric === 'correlation') {
        for (let j = 0; j < p; j++) s += rowsData[i * p + j] * rowsData[l * p + j];
        out[k++] = 1 - s;
      } else {
        for (let j = 0; j < p; j++) s += (data[i * p + j] - data[l * p + j]) ** 2;
        out[k++] = metric === 'euclidean' ? Math.sqrt(s) : s;
      }
    }
  }
  return out;
}

/** Ranks 1..n with ties given their average rank (scipy.stats.rankdata 'average'). */
export function averageRanks(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && v[idx[j + 1]] === v[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) r[idx[t]] = rank;
    i = j + 1;
  }
  return r;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0,
    mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma,
      db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/**
 * Kendall's tau-b (scipy.stats.kendalltau default): (C − D) / √((n0 − n1)(n0 − n2)) with n0 the
 * number of pairs and n1, n2 the pairs tied in a, in b. O(n²), fine for RDMs of up to a few
 * hundred conditions.
 */
export function kendallTauB(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let concordant = 0,
    discordant = 0,
    tiesA = 0,
    tiesB = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(a[i] - a[j]),
        db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) {
        tiesA++;
        tiesB++;
      } else if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const n0 = (n * (n - 1)) / 2;
  return (concordant - discordant) / Math.sqrt((n0 - tiesA) * (n0 - tiesB));
}

/** Kendall's tau-a: (C − D) / (n(n − 1)/2), ties counted as neither (rsatoolbox's 'tau-a'). */
export function kendallTauA(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += Math.sign(a[i] - a[j]) * Math.sign(b[i] - b[j]);
  return s / ((n * (n - 1)) / 2);
}

/**
 * Spearman's rho-a (rsatoolbox's 'rho-a', Nili et al. 2014): on average ranks r, q,
 * ρ_a = 12 Σ r_i q_i / (n³ − n) − 3(n + 1)/(n − 1), which, unlike Spearman's rho, does not
 * renormalise for ties.
 */
export function spearmanRhoA(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const r = averageRanks(a),
    q = averageRanks(b);
  let s = 0;
  for (let i = 0; i < n; i++) s += r[i] * q[i];
  return (12 * s) / (n ** 3 - n) - (3 * (n + 1)) / (n - 1);
}

/**
 * Compare two condensed RDMs of equal length: 'pearson' r, 'spearman' (Pearson r of average ranks,
 * so ties are handled as scipy does), 'kendall' tau-b, 'cosine' similarity (no centring), or
 * rsatoolbox's tie-sensitive 'tau-a' and 'rho-a'.
 * Symmetric in its arguments; NaN when either RDM is constant (except for 'cosine').
 */
export function compareRdms(a: ArrayLike<number>, b: ArrayLike<number>, method: RdmComparison = 'spearman'): number {
  if (!RDM_COMPARISONS.includes(method))
    throw new ConfigError('method', method, RDM_COMPARISONS.map((m) => `'${m}'`).join(', '));
  if (a.length !== b.length) throw new ConfigError('b.length', b.length, `the length of a, ${a.length}`);
  if (a.length < 2) throw new ConfigError('a.length', a.length, 'at least 2 dissimilarities');
  for (const [name, v] of [
    ['a', a],
    ['b', b],
  ] as const) {
    for (let i = 0; i < v.length; i++)
      if (!Number.isFinite(v[i])) throw new ConfigError(`${name}[${i}]`, v[i], 'finite numbers only');
  }
  switch (method) {
    case 'pearson':
      return pearson(a, b);
    case 'spearman':
      return pearson(averageRanks(a), averageRanks(b));
    case 'kendall':
      return kendallTauB(a, b);
    case 'tau-a':
      return kendallTauA(a, b);
    case 'rho-a':
      return spearmanRhoA(a, b);
    case 'cosine': {
      let ab = 0,
        aa = 0,
        bb = 0;
      for (let i = 0; i < a.length; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
      }
      return ab / Math.sqrt(aa * bb);
    }
  }
}
