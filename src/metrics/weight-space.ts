/**
 * Weight-space analysis of one hidden layer (docs/science.md §4; Alleman, Lindsey & Fusi 2024): the
 * inter- and intra-class axes of each neuron, the projections of its input weights on them, its
 * active set, and the expected gradient field on the (inter, intra) plane. Pure functions: the
 * activation enters as scalar functions f and f′.
 */
import { normalCdf } from '../maths/special.js';
import type { Matrix } from '../types.js';
import { ConfigError } from '../errors.js';

/** Row i of a row-major matrix, as a view. */
function rowOf(m: { cols: number; data: Float64Array | Float32Array }, i: number) {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The per-condition output error seen through neuron i's readout, early in training (outputs at
 * their mean): e_i(p) = J_i · (y_p − ȳ), with J_i the readout column of neuron i (K values).
 */
export function readoutError(Ji: ArrayLike<number>, targets: Matrix): Float64Array {
  const { rows: P, cols: K } = targets;
  const mean = new Float64Array(K);
  for (let p = 0; p < P; p++) for (let k = 0; k < K; k++) mean[k] += targets.data[p * K + k] / P;
  return Float64Array.from({ length: P }, (_, p) => {
    let s = 0;
    for (let k = 0; k < K; k++) s += Ji[k] * (targets.data[p * K + k] - mean[k]);
    return s;
  });
}

/** A neuron's axes: the unit inter-class axis and an orthonormal basis of the intra-class subspace orthogonal to it. */
export interface NeuronAxes {
  /** u_i / ‖u_i‖, u_i = Σ_p e_i(p) mu_p; all zeros when u_i = 0 (inputs carry no linear trace of the targets). */
  inter: Float64Array;
  /** Orthonormal intra-class directions (within-label differences of the means, orthogonalised to u_i and each other). */
  intra: Float64Array[];
}

/**
 * Axes of neuron i. The intra-class subspace is spanned by the differences between each
 * condition mean and the mean of its label class (conditions with the same target vector), made
 * orthogonal to u_i; its basis is Gram–Schmidt in condition order, dropping directions below 1e-9
 * of the means' scale. Empty when every condition has its own label (e.g. aligned parity with k = d).
 */
export function neuronAxes(means: Matrix, targets: Matrix, Ji: ArrayLike<number>): NeuronAxes {
  const P = means.rows,
    N = means.cols,
    K = targets.cols;
  const e = readoutError(Ji, targets);
  const u = new Float64Array(N);
  for (let p = 0; p < P; p++) {
    const m = rowOf(means, p);
    for (let j = 0; j < N; j++) u[j] += e[p] * m[j];
  }
  const scale = Math.max(
    ...Array.from({ length: P }, (_, p) => Math.sqrt(dot(rowOf(means, p), rowOf(means, p)))),
    1e-300,
  );
  const un = Math.sqrt(dot(u, u));
  const inter = un > 1e-12 * scale ? u.map((v) => v / un) : new Float64Array(N);
  const labelOf = (p: number) => Array.from(targets.data.subarray(p * K, (p + 1) * K)).join(',');
  const classes = new Map<string, number[]>();
  for (let p = 0; p < P; p++) classes.set(labelOf(p), [...(classes.get(labelOf(p)) ?? []), p]);
  const basis: Float64Array[] = [];
  for (let p = 0; p < P; p++) {
    const members = classes.get(labelOf(p))!;
    if (members.length < 2) continue;
    const v = Float64Array.from(rowOf(means, p));
    for (const q of members) {
      const m = rowOf(means, q);
      for (let j = 0; j < N; j++) v[j] -= m[j] / members.length;
    }
    for (const b of [inter, ...basis]) {
      const c = dot(v, b);
      for (let j = 0; j < N; j++) v[j] -= c * b[j];
    }
    const n = Math.sqrt(dot(v, v));
    if (n > 1e-9 * scale) basis.push(v.map((x) => x / n));
  }
  return { inter, intra: basis };
}

/** Where one neuron's input weights lie. */
export interface NeuronProjection {
  /** w_i · û (signed). */
  inter: number;
  /** ‖projection of w_i on the intra-class subspace‖. */
  intra: number;
  /** The intra-class components along the basis (when the subspace has at most 2 dimensions, the two axes). */
  intraComponents: number[];
  /** ‖w_i‖. */
  norm: number;
  /** Conditions whose noise-free pre-activation w_i · mu_p + b_i exceeds the threshold. */
  activeConditions: number[];
}

/** Project neuron i's weights w (length N) and bias b on its axes, and find its active set. */
export function projectNeuron(
  w: ArrayLike<number>,
  b: number,
  axes: NeuronAxes,
  means: Matrix,
  threshold = 0,
): NeuronProjection {
  const comps = axes.intra.map((a) => dot(w, a));
  const activeConditions: number[] = [];
  for (let p = 0; p < means.rows; p++) if (dot(w, rowOf(means, p)) + b > threshold) activeConditions.push(p);
  return {
    inter: dot(w, axes.inter),
    intra: Math.sqrt(comps.reduce((s, c) => s + c * c, 0)),
    intraComponents: comps,
    norm: Math.sqrt(dot(w, w)),
    activeConditions,
  };
}

/**
 * Gauss–Hermite rule for E[g(ξ)], ξ ~ N(0, 1): nodes x_k and weights w_k with
 * E[g(ξ)] ≈ Σ_k w_k g(x_k) (physicists' rule rescaled by √2 and 1/√π; Newton on the Hermite
 * recurrence, as in Numerical Recipes' gauher).
 */
export function gaussHermite(n: number): { nodes: Float64Array; weights: Float64Array } {
  // Beyond ~150 nodes the normalised recurrence underflows in float64.
  if (!Number.isInteger(n) || n < 1 || n > 150) throw new ConfigError('points', n, 'an integer from 1 to 150');
  const x = new Float64Array(n),
    w = new Float64Array(n);
  const m = Math.floor((n + 1) / 2);
  const PIM4 = Math.PI ** -0.25;
  let z = 0;
  for (let i = 0; i < m; i++) {
    if (i === 0) z = Math.sqrt(2 * n + 1) - 1.85575 * (2 * n + 1) ** (-1 / 6);
    else if (i === 1) z -= (1.14 * n ** 0.426) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * x[0];
    else if (i === 3) z = 1.91 * z - 0.91 * x[1];
    else z = 2 * z - x[i - 2];
    let pp = 0;
    for (let its = 0; its < 100; its++) {
      let p1 = PIM4,
        p2 = 0;
      for (let j = 0; j < n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / (j + 1)) * p2 - Math.sqrt(j / (j + 1)) * p3;
      }
      pp = Math.sqrt(2 * n) * p2;
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-14) break;
    }
    x[i] = z;
    x[n - 1 - i] = -z;
    w[i] = 2 / (pp * pp);
    w[n - 1 - i] = w[i];
  }
  return {
    nodes: x.map((v) => v * Math.SQRT2),
    weights: w.map((v) => v / Math.sqrt(Math.PI)),
  };
}

/** The noise-smoothed quantities of an activation at pre-activation mean c and noise scale s. */
export interface Smoothing {
  /** E[f(c + sξ)]. */
  f(c: number, s: number): number;
  /** E[f′(c + sξ)]. */
  df(c: number, s: number): number;
  /** E[f′(c + sξ) ξ]. */
  dfXi(c: number, s: number): number;
}

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * Noise smoothing by Gauss–Hermite quadrature (`points` nodes, default 60) for any f, f′; ReLU
 * has the closed forms E[relu] = cΦ(c/s) + sφ(c/s), E[relu′] = Φ(c/s), E[relu′ ξ] = φ(c/s).
 */
export function smoothing(
  f: (x: number) => number,
  df: (x: number) => number,
  options: { relu?: boolean; points?: number } = {},
): Smoothing {
  if (options.relu) {
    const Phi = normalCdf;
    const phi = (t: number) => Math.exp(-0.5 * t * t) / SQRT_2PI;
    return {
      f: (c, s) => (s > 0 ? c * Phi(c / s) + s * phi(c / s) : Math.max(c, 0)),
      df: (c, s) => (s > 0 ? Phi(c / s) : c > 0 ? 1 : 0),
      dfXi: (c, s) => (s > 0 ? phi(c / s) : 0),
    };
  }
  const { nodes, weights } = gaussHermite(options.points ?? 60);
  const expect = (g: (x: number, xi: number) => number) => (c: number, s: number) => {
    let acc = 0;
    for (let k = 0; k < nodes.length; k++) acc += weights[k] * g(c + s * nodes[k], nodes[k]);
    return acc;
  };
  return { f: expect((x) => f(x)), df: expect((x) => df(x)), dfXi: expect((x, xi) => df(x) * xi) };
}

/**
 * The expected loss of neuron i early in training, as a function of its weights w (bias b fixed):
 *
 *   L(w) = −(1/P) Σ_p e_i(p) E_ξ[f(w · mu_p + b + σ‖w‖ ξ)],
 *
 * the first-order change of the BCE loss when only neuron i moves (outputs at their mean, so the
 * error on condition p through the readout is e_i(p)); noise x = mu_p + σ·noise enters as the
 * smoothing of f by N(0, σ²‖w‖²).
 */
export function expectedLoss(
  w: ArrayLike<number>,
  b: number,
  e: ArrayLike<number>,
  means: Matrix,
  sigma: number,
  sm: Smoothing,
): number {
  const s = sigma * Math.sqrt(dot(w, w));
  let L = 0;
  for (let p = 0; p < means.rows; p++) L -= (e[p] * sm.f(dot(w, rowOf(means, p)) + b, s)) / means.rows;
  return L;
}

/**
 * Its gradient: ∇L(w) = −(1/P) Σ_p e_i(p) (mu_p E[f′(z_p)] + σ (w/‖w‖) E[f′(z_p) ξ]), with
 * z_p = w · mu_p + b + σ‖w‖ξ — the expected gradient; the field is its negative (the descent direction).
 */
export function expectedGradient(
  w: ArrayLike<number>,
  b: number,
  e: ArrayLike<number>,
  means: Matrix,
  sigma: number,
  sm: Smoothing,
): Float64Array {
  const N = means.cols;
  const wn = Math.sqrt(dot(w, w));
  const s = sigma * wn;
  const g = new Float64Array(N);
  for (let p = 0; p < means.rows; p++) {
    const m = rowOf(means, p);
    const c = dot(w, m) + b;
    const a = -e[p] / means.rows;
    const d1 = sm.df(c, s);
    const d2 = wn > 0 ? (sigma * sm.dfXi(c, s)) / wn : 0;
    for (let j = 0; j < N; j++) g[j] += a * (m[j] * d1 + w[j] * d2);
  }
  return g;
}

/** One point of the expected-gradient field on the (inter, intra) plane. */
export interface FieldPoint {
  inter: number;
  intra: number;
  /** Descent direction −∇L projected on the inter-class axis and on the (first) intra-class axis. */
  dInter: number;
  dIntra: number;
}

/**
 * The expected-gradient field of a neuron on a grid of its (inter, intra) plane: at w = a·û + c·v̂
 * (û the inter axis, v̂ the first intra axis), the projections of −∇L(w) on û and v̂. Needs an
 * intra axis (a task whose label classes hold several conditions).
 */
export function expectedGradientField(
  axes: NeuronAxes,
  b: number,
  e: ArrayLike<number>,
  means: Matrix,
  sigma: number,
  sm: Smoothing,
  grid: { inter: number[]; intra: number[] },
): FieldPoint[] {
  if (!axes.intra.length)
    throw new ConfigError(
      'axes.intra (the intra-class axes)',
      'none: every condition has its own label',
      'a task whose label classes hold at least two conditions',
    );
  const u = axes.inter,
    v = axes.intra[0];
  const out: FieldPoint[] = [];
  const w = new Float64Array(u.length);
  for (const a of grid.inter) {
    for (const c of grid.intra) {
      for (let j = 0; j < w.length; j++) w[j] = a * u[j] + c * v[j];
      const g = expectedGradient(w, b, e, means, sigma, sm);
      out.push({ inter: a, intra: c, dInter: -dot(g, u), dIntra: -dot(g, v) });
    }
  }
  return out;
}
