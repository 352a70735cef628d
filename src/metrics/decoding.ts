/**
 * Decoding-based geometry metrics: cross-condition generalisation (CCGP), shattering
 * dimensionality (SD) and linear decodability, on noisy samples with condition labels.
 * References: Bernardi et al. (2020), "The geometry of abstraction in the hippocampus and
 * prefrontal cortex"; docs/science.md §3. Chance is 0.5 for all three.
 */
import type { MatrixLike } from '../types.js';
import { Rng } from '../random.js';
import { requireFinite, toMatrix } from './matrix.js';
import { balancedDichotomies, countBalancedDichotomies, splitConditions } from './dichotomy.js';
import { DEFAULT_CLASSIFIER, fitClassifier, requireClassifier, type ClassifierName } from './classifiers.js';
import { accuracyOf, type Fit, type LinearModel } from './linear-model.js';
import { addOuterProducts } from '../kernels/outer-products.js';
import { ConfigError } from '../errors.js';

interface Labelled {
  x: Float64Array;
  p: number;
  conditions: Int32Array;
  /** Number of conditions: labels are 0..P−1, each with at least one sample. */
  P: number;
  /** Row indices of each condition's samples. */
  byCondition: Int32Array[];
}

/** Validate samples (n × p) and their condition labels (length n, integers 0..P−1, every one present). */
export function labelledSamples(samples: MatrixLike, conditions: ArrayLike<number>): Labelled {
  const m = toMatrix(samples, 'samples');
  requireFinite(m, 'samples');
  if (!conditions || conditions.length !== m.rows) {
    throw new ConfigError('conditions.length', conditions?.length, `one condition per sample row, ${m.rows}`);
  }
  const c = Int32Array.from(conditions as ArrayLike<number>);
  let P = 0;
  for (let i = 0; i < c.length; i++) {
    if (!Number.isInteger(conditions[i]) || conditions[i] < 0)
      throw new ConfigError(`conditions[${i}]`, conditions[i], 'integers >= 0');
    P = Math.max(P, c[i] + 1);
  }
  const counts = new Int32Array(P);
  for (const v of c) counts[v]++;
  const missing = [...counts.keys()].filter((k) => counts[k] === 0);
  if (missing.length)
    throw new ConfigError(
      'conditions (labels without samples)',
      missing,
      'labels 0..P−1, each with at least one sample',
    );
  const byCondition = Array.from({ length: P }, (_, k) => new Int32Array(counts[k]));
  const fill = new Int32Array(P);
  for (let i = 0; i < c.length; i++) byCondition[c[i]][fill[c[i]]++] = i;
  return { x: m.data, p: m.cols, conditions: c, P, byCondition };
}

function rowsOf(d: Labelled, conds: number[]): Int32Array {
  const total = conds.reduce((s, k) => s + d.byCondition[k].length, 0);
  const out = new Int32Array(total);
  let o = 0;
  for (const k of conds) {
    out.set(d.byCondition[k], o);
    o += d.byCondition[k].length;
  }
  return out;
}

function labelsOf(d: Labelled, rows: Int32Array, positive: Set<number>): Uint8Array {
  return Uint8Array.from(rows, (r) => (positive.has(d.conditions[r]) ? 1 : 0));
}

/**
 * Fold of every sample for k-fold cross-validation, stratified by condition: each condition's
 * samples are shuffled (seeded) and dealt to folds in turn, so every fold holds every condition.
 */
export function conditionFolds(conditions: Int32Array, P: number, folds: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const fold = new Int32Array(conditions.length);
  const byCond: number[][] = Array.from({ length: P }, () => []);
  conditions.forEach((c, i) => {
    byCond[c].push(i);
  });
  let start = 0;
  for (const rows of byCond) {
    const perm = rng.permutation(rows.length);
    // Start each condition at a different fold so small conditions do not all land in fold 0.
    for (let t = 0; t < rows.length; t++) fold[rows[perm[t]]] = (start + t) % folds;
    start = (start + rows.length) % folds;
  }
  return fold;
}

/**
 * Σ z zᵀ (z = (x, 1)) of each group of rows, and of all rows: every classifier fitted on a union
 * of groups (the training folds, the non-held-out conditions) gets its total by subtraction
 * instead of recomputing O(n p²) products (see TrainingSet.zz).
 */
function groupGrams(d: Labelled, groups: Int32Array[]): { total: Float64Array; group: Float64Array[] } {
  const q = d.p + 1;
  const group = groups.map((rows) => addOuterProducts(d.x, d.p, rows, new Float64Array(q * q)));
  const total = new Float64Array(q * q);
  for (const g of group) for (let i = 0; i < total.length; i++) total[i] += g[i];
  return { total, group };
}

/** Σ z zᵀ of all rows except the given groups. */
function without(grams: { total: Float64Array; group: Float64Array[] }, left: number[]): Float64Array {
  const out = Float64Array.from(grams.total);
  for (const g of left) for (let i = 0; i < out.length; i++) out[i] -= grams.group[g][i];
  return out;
}

/** Cross-validation folds with the Gram sums of their training sets, shared by every dichotomy. */
function foldSets(d: Labelled, fold: Int32Array, folds: number) {
  const members = Array.from({ length: folds }, () => [] as number[]);
  fold.forEach((f, i) => {
    members[f].push(i);
  });
  const grams = groupGrams(
    d,
    members.map((m) => Int32Array.from(m)),
  );
  return members.map((test, f) => ({
    test,
    train: Array.from({ length: fold.length }, (_, i) => i).filter((i) => fold[i] !== f),
    zz: without(grams, [f]),
  }));
}

/** Mean test accuracy over the folds; `fits` counts the classifier fits, and those that did not converge. */
function crossValidated(
  d: Labelled,
  labelOfCondition: (c: number) => number,
  sets: ReturnType<typeof foldSets>,
  classifier: ClassifierName,
  seed: number,
  fits: FitCount,
): number {
  let sum = 0;
  let previous: LinearModel | undefined;
  for (const { train, test, zz } of sets) {
    const ytr = train.map((r) => labelOfCondition(d.conditions[r]));
    const yte = test.map((r) => labelOfCondition(d.conditions[r]));
    // Folds share most of their training data: each fit starts from the previous fold's solution.
    const model = fitClassifier(classifier, { x: d.x, p: d.p, rows: train, y: ytr, zz }, seed, previous);
    count(fits, model);
    previous = model;
    sum += accuracyOf(model, d.x, d.p, test, yte);
  }
  return sum / sets.length;
}

/** How many classifier fits a value rests on, and how many of them stopped before their solver converged. */
export interface FitCount {
  fits: number;
  unconverged: number;
}

function count(c: FitCount, f: Fit): void {
  c.fits++;
  if (!f.converged) c.unconverged++;
}

export const CCGP_SCHEMES = ['bernardi', 'nearest-pair'] as const;
export type CcgpScheme = (typeof CCGP_SCHEMES)[number];
/** The CCGP scheme unless told otherwise. */
export const DEFAULT_CCGP_SCHEME: CcgpScheme = 'bernardi';

export interface CcgpOptions {
  /**
   * 'bernardi' (default): hold out one condition from each side, train on the others, test on the
   * held-out pair; average over every such pair. 'nearest-pair' (the stricter scheme): train on one
   * positive condition and its nearest negative condition (Euclidean distance between condition
   * means), test on all other conditions; average over the positive conditions.
   */
  scheme?: CcgpScheme;
  /** 'svm' (default) or 'ridge'. */
  classifier?: ClassifierName;
  /** Seed of the SVM's coordinate order. Default 0. */
  seed?: number;
  /** 'bernardi' only: the held-out [positive, negative] pairs to average over (default: all). */
  heldOutPairs?: Array<[number, number]>;
}

export interface CcgpResult {
  value: number;
  scheme: CcgpScheme;
  classifier: ClassifierName;
  /** Test accuracy of each split, in the order they were taken. */
  accuracies: number[];
  /** The classifier fits behind the value (one per split), and how many did not converge. */
  fits: FitCount;
}

/**
 * Cross-condition generalisation performance of a dichotomy (Bernardi et al. 2020): how well a
 * linear classifier trained on some conditions generalises to held-out ones. In [0, 1]; 0.5 is
 * chance; below 0.5 means the held-out conditions fall on the wrong side systematically.
 *
 * @param samples n × p activity; @param conditions condition of each row (0..P−1);
 * @param positive the conditions of one side (P/2, at least 2 per side).
 */
export function ccgp(
  samples: MatrixLike,
  conditions: ArrayLike<number>,
  positive: number[],
  options: CcgpOptions = {},
): CcgpResult {
  const d = labelledSamples(samples, conditions);
  const { positive: pos, negative: neg } = splitConditions(d.P, positive);
  if (pos.length < 2)
    throw new ConfigError('positive', positive, 'at least 2 conditions per side (CCGP needs conditions to hold out)');
  const scheme = options.scheme ?? DEFAULT_CCGP_SCHEME;
  if (!CCGP_SCHEMES.includes(scheme))
    throw new ConfigError('options.scheme', scheme, CCGP_SCHEMES.map((m) => `'${m}'`).join(', '));
  const classifier = requireClassifier(options.classifier ?? DEFAULT_CLASSIFIER);
  const seed = options.seed ?? 0;
  const posSet = new Set(pos);
  const accuracies: number[] = [];
  const fits: FitCount = { fits: 0, unconverged: 0 };
  const grams = scheme === 'bernardi' ? groupGrams(d, d.byCondition) : null;
  let previous: LinearModel | undefined;
  const evaluate = (trainConds: number[], testConds: number[]) => {
    const train = rowsOf(d, trainConds),
      test = rowsOf(d, testConds);
    const zz = grams ? without(grams, testConds) : undefined;
    // Held-out pairs share most training conditions: warm-start from the previous split's solution.
    const model = fitClassifier(
      classifier,
      { x: d.x, p: d.p, rows: train, y: labelsOf(d, train, posSet), zz },
      seed,
      scheme === 'bernardi' ? previous : undefined,
    );
    count(fits, model);
    previous = model;
    accuracies.push(accuracyOf(model, d.x, d.p, test, labelsOf(d, test, posSet)));
  };
  if (scheme === 'bernardi') {
    const pairs = options.heldOutPairs ?? pos.flatMap((a) => neg.map((b) => [a, b] as [number, number]));
    for (const [a, b] of pairs) {
      if (!posSet.has(a) || !neg.includes(b))
        throw new ConfigError('options.heldOutPairs (a pair)', [a, b], '[a positive condition, a negative condition]');
      evaluate([...pos.filter((c) => c !== a), ...neg.filter((c) => c !== b)], [a, b]);
    }
  } else {
    const centroid = (k: number) => {
      const rows = d.byCondition[k];
      const c = new Float64Array(d.p);
      for (const r of rows) for (let j = 0; j < d.p; j++) c[j] += d.x[r * d.p + j] / rows.length;
      return c;
    };
    const cents = Array.from({ length: d.P }, (_, k) => centroid(k));
    const dist = (a: number, b: number) => cents[a].reduce((s, v, j) => s + (v - cents[b][j]) ** 2, 0);
    for (const a of pos) {
      const b = neg.reduce((best, q) => (dist(a, q) < dist(a, best) ? q : best), neg[0]);
      evaluate(
        [a, b],
        [...pos, ...neg].filter((c) => c !== a && c !== b),
      );
    }
  }
  return { value: accuracies.reduce((s, v) => s + v, 0) / accuracies.length, scheme, classifier, accuracies, fits };
}

export interface CrossValidationOptions {
  /** 'svm' (default) or 'ridge'. */
  classifier?: ClassifierName;
  /** Number of cross-validation folds, stratified by condition. Default 5. */
  folds?: number;
  /** Seed of the fold assignment (and the SVM's coordinate order). Default 0. */
  seed?: number;
}

export interface ShatteringOptions extends CrossValidationOptions {
  /** Largest number of dichotomies to evaluate; beyond, a seeded random subset. Default 100. */
  maxDichotomies?: number;
  /**
   * Evaluate exactly these dichotomies (positive sides, each P/2 distinct conditions) instead of
   * choosing them; the value is their mean accuracy. Default: chosen as above.
   */
  dichotomies?: number[][];
}

export interface ShatteringResult {
  value: number;
  classifier: ClassifierName;
  folds: number;
  /** The dichotomies evaluated (positive sides) and their accuracies. */
  dichotomies: number[][];
  accuracies: number[];
  /** True when every balanced dichotomy was evaluated. */
  exhaustive: boolean;
  /** The classifier fits behind the value (folds × dichotomies), and how many did not converge. */
  fits: FitCount;
}

function cvOptions(o: CrossValidationOptions, d: Labelled) {
  const classifier = requireClassifier(o.classifier ?? DEFAULT_CLASSIFIER);
  const folds = o.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 2) throw new ConfigError('options.folds', folds, 'an integer >= 2');
  const fewest = Math.min(...d.byCondition.map((r) => r.length));
  if (fewest * d.P < folds)
    throw new ConfigError('options.folds', folds, `at most the number of samples, ${fewest * d.P}`);
  return { classifier, folds, seed: o.seed ?? 0 };
}

/**
 * Shattering dimensionality (Bernardi et al. 2020): the mean cross-validated accuracy of a linear
 * classifier over the balanced dichotomies of the conditions (all of them — 35 for 8 conditions —
 * up to `maxDichotomies`, else a seeded random subset). In [0, 1]; 0.5 is chance.
 */
export function shatteringDimensionality(
  samples: MatrixLike,
  conditions: ArrayLike<number>,
  options: ShatteringOptions = {},
): ShatteringResult {
  const d = labelledSamples(samples, conditions);
  if (d.P % 2 || d.P < 2)
    throw new ConfigError('conditions (number of distinct)', d.P, 'an even number >= 2 (balanced dichotomies)');
  const { classifier, folds, seed } = cvOptions(options, d);
  const max = options.maxDichotomies ?? 100;
  if (!Number.isInteger(max) || max < 1) throw new ConfigError('options.maxDichotomies', max, 'an integer >= 1');
  const dichotomies = options.dichotomies ?? balancedDichotomies(d.P, max, seed);
  if (options.dichotomies) {
    if (!Array.isArray(dichotomies) || !dichotomies.length)
      throw new ConfigError('options.dichotomies', dichotomies, 'a list of one or more positive sides');
    for (const side of dichotomies) {
      const ok =
        Array.isArray(side) &&
        side.length === d.P / 2 &&
        new Set(side).size === side.length &&
        side.every((c) => Number.isInteger(c) && c >= 0 && c < d.P);
      if (!ok)
        throw new ConfigError('options.dichotomies (a side)', side, `${d.P / 2} distinct conditions in 0..${d.P - 1}`);
    }
  }
  const sets = foldSets(d, conditionFolds(d.conditions, d.P, folds, seed), folds);
  const fits: FitCount = { fits: 0, unconverged: 0 };
  const accuracies = dichotomies.map((side) => {
    const set = new Set(side);
    return crossValidated(d, (c) => (set.has(c) ? 1 : 0), sets, classifier, seed, fits);
  });
  return {
    value: accuracies.reduce((s, v) => s + v, 0) / accuracies.length,
    classifier,
    folds,
    dichotomies,
    accuracies,
    exhaustive: dichotomies.length === countBalancedDichotomies(d.P),
    fits,
  };
}

export interface DecodabilityResult {
  value: number;
  classifier: ClassifierName;
  folds: number;
  /** The classifier fits behind the value (one per fold), and how many did not converge. */
  fits: FitCount;
}

/**
 * Linear decodability of a binary variable defined on conditions (e.g. one target): the
 * cross-validated accuracy of a linear classifier predicting `labels[condition]` (0/1) from the
 * samples. In [0, 1].
 */
export function decodability(
  samples: MatrixLike,
  conditions: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: CrossValidationOptions = {},
): DecodabilityResult {
  const d = labelledSamples(samples, conditions);
  if (!labels || labels.length !== d.P)
    throw new ConfigError('labels.length', labels?.length, `one 0/1 label per condition, ${d.P}`);
  for (let i = 0; i < labels.length; i++)
    if (labels[i] !== 0 && labels[i] !== 1) throw new ConfigError(`labels[${i}]`, labels[i], '0 or 1');
  const { classifier, folds, seed } = cvOptions(options, d);
  const sets = foldSets(d, conditionFolds(d.conditions, d.P, folds, seed), folds);
  const fits: FitCount = { fits: 0, unconverged: 0 };
  return { value: crossValidated(d, (c) => labels[c], sets, classifier, seed, fits), classifier, folds, fits };
}
