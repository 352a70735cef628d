/**
 * `geomstream/metrics`: the pure geometry metrics (no RxJS, no I/O, no tensors). Matrices are
 * `number[][]` or `{ rows, cols, data }` (row-major, float32 or float64); all maths is float64.
 */
export { linearCKA, debiasedCKA, rbfCKA, kernelAlignment, type RbfCKAOptions } from './cka.js';
export {
  rdm,
  compareRdms,
  averageRanks,
  kendallTauB,
  kendallTauA,
  spearmanRhoA,
  type RdmMetric,
  type RdmComparison,
} from './rdm.js';
export { parallelismScore, PS_EXACT_LIMIT, type ParallelismResult } from './parallelism.js';
export {
  ccgp,
  shatteringDimensionality,
  decodability,
  conditionFolds,
  labelledSamples,
  type CcgpOptions,
  type CcgpResult,
  type CcgpScheme,
  type ShatteringOptions,
  type ShatteringResult,
  type CrossValidationOptions,
  type DecodabilityResult,
  type FitCount,
} from './decoding.js';
export { participationRatio, sparsity, type SparsityOptions } from './spectrum.js';
export { fitClassifier, CLASSIFIERS, type ClassifierName } from './classifiers.js';
export { fitLinearSvm, type SvmOptions } from './svm.js';
export { fitRidge, type RidgeOptions } from './ridge.js';
export { accuracyOf, type LinearModel, type Fit, type TrainingSet } from './linear-model.js';
export { balancedDichotomies, countBalancedDichotomies, splitConditions } from './dichotomy.js';
export { minCostAssignment } from './assignment.js';
export {
  neuronAxes,
  projectNeuron,
  readoutError,
  expectedLoss,
  expectedGradient,
  expectedGradientField,
  gaussHermite,
  smoothing,
  type NeuronAxes,
  type NeuronProjection,
  type FieldPoint,
  type Smoothing,
} from './weight-space.js';
export { toMatrix, gram, centerColumns, doubleCenter } from './matrix.js';
export type { Matrix, MatrixLike } from '../types.js';
export { meanSquaredCCA, type CcaOptions } from './cca.js';
export {
  nullTest,
  shuffledConditions,
  geometricNull,
  shuffledUnits,
  permutedRows,
  type NullTest,
  type NullOptions,
} from './nulls.js';
export { ConfigError } from '../errors.js';
export { normalizedBuresSimilarity, procrustes, type ProcrustesResult } from './procrustes.js';
