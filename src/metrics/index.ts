/**
 * `geomstream/metrics`: the pure geometry metrics (no RxJS, no I/O, no tensors). Matrices are
 * `number[][]` or `{ rows, cols, data }` (row-major, float32 or float64); all maths is float64.
 */
export { linearCKA, debiasedCKA, rbfCKA, kernelAlignment, type RbfCKAOptions } from './cka.js';
export { toMatrix, gram, centerColumns, doubleCenter } from './matrix.js';
export type { Matrix, MatrixLike } from '../types.js';
