/**
 * Linear classifiers for the decoding metrics (CCGP, shattering dimensionality, decodability), by
 * name: 'svm' (svm.ts: scikit-learn's `LinearSVC()` defaults) and 'ridge' (ridge.ts: its
 * `RidgeClassifier()` defaults). Pure functions over a row-major float64 data matrix and lists of
 * row indices, so folds and held-out conditions never copy the data.
 */
import { ConfigError } from '../errors.js';
import type { Fit, LinearModel, TrainingSet } from './linear-model.js';
import { fitRidge } from './ridge.js';
import { fitLinearSvm } from './svm.js';

export const CLASSIFIERS = ['svm', 'ridge'] as const;
export type ClassifierName = (typeof CLASSIFIERS)[number];
/** The classifier the decoding metrics fit unless told otherwise. */
export const DEFAULT_CLASSIFIER: ClassifierName = 'svm';

/** Fit the named classifier. `seed` and `init` (a warm start) are the SVM's; the ridge classifier is solved in closed form and needs neither. */
export function fitClassifier(name: ClassifierName, t: TrainingSet, seed = 0, init?: LinearModel): Fit {
  return name === 'svm' ? fitLinearSvm(t, { seed, init }) : fitRidge(t);
}

/** Validate a classifier name. */
export function requireClassifier(v: unknown, field = 'options.classifier'): ClassifierName {
  if (!(CLASSIFIERS as readonly unknown[]).includes(v)) {
    throw new ConfigError(field, v, CLASSIFIERS.map((c) => `'${c}'`).join(', '));
  }
  return v as ClassifierName;
}
