/**
 * `geomstream`: sources, operators, sinks and the run API. The pure metrics are in
 * `geomstream/metrics` (re-exported here too); DuckDB views, summaries and the report are in
 * `geomstream/query`, so importing this entry point loads no DuckDB. Engine internals (ensembles,
 * the training loop, Parquet encoding, folder preparation) are not exported.
 */
export type * from './types.js';
export { ConfigError } from './errors.js';
export { Rng, deriveSeed } from './random.js';
export {
  networkConfig,
  trainingConfig,
  checkpointSteps,
  stepsPerEpoch,
  NETWORK_DEFAULTS,
  TRAINING_DEFAULTS,
  type NetworkOptions,
  type TrainingOptions,
} from './config.js';

export {
  alignedParity,
  alignedWeights,
  dirichletWeights,
  parityFeatures,
  type AlignedParityOptions,
} from './sources/aligned-parity.js';
export { randomKernel, type RandomKernelOptions } from './sources/random-kernel.js';
export { separableXor, type SeparableXorOptions } from './sources/separable-xor.js';
export { unstructured, type UnstructuredOptions } from './sources/unstructured.js';
export { sweep, sweepRuns, gridPoints, type SweepOptions, type SweepPoint, type PointSeeds } from './sources/sweep.js';
export {
  fromCheckpoints,
  tensorMap,
  DEFAULT_TENSOR_MAP,
  type CheckpointsOptions,
  type TensorRole,
} from './sources/checkpoints.js';
export {
  fromActivations,
  fromArrowStream,
  type ActivationsOptions,
  type ArrowStreamOptions,
} from './sources/activations.js';
export {
  taskFromSpec,
  readTaskFile,
  externalTask,
  TASK_FILE_FAMILIES,
  type ExternalTaskOptions,
} from './sources/task-file.js';
export { WATCH_DEFAULTS, type WatchOptions } from './sources/watch.js';
export { readSafetensors, writeSafetensors, SAFETENSORS_MAX_HEADER_BYTES } from './formats/safetensors.js';
export { readNpy, writeNpy } from './formats/npy.js';
export { readNpz, writeNpz } from './formats/npz.js';
export type { Tensor, DType } from './formats/tensor.js';

export { train, trainRuns, type TrainOptions } from './operators/train.js';
export { probe, representationOf, type ProbeOptions } from './operators/probe.js';
export {
  geometry,
  checkMetricNeeds,
  metricRow,
  type GeometryOptions,
  type MetricRequest,
} from './operators/geometry.js';
export {
  GEOMETRY_METRICS,
  NULL_MODELS,
  type MetricName,
  type NullModel,
  type NullRequest,
} from './operators/geometry-metrics.js';
export type { GeometryMetric, MetricValue, MetricOption } from './operators/metric-definition.js';
export { signedTargets, taskDichotomies } from './sources/task-dichotomies.js';
export {
  weightDynamics,
  neuronRows,
  fieldRows,
  type WeightDynamicsOptions,
  type FieldOptions,
} from './operators/weight-dynamics.js';

export {
  writeResults,
  FORMATS,
  SCHEMA_VERSION,
  type ResultsOptions,
  type ResultsSummary,
  type ResultFormat,
} from './sinks/results.js';
export { writeParquet } from './sinks/parquet.js';
export { ArrowStreamFile } from './sinks/arrow-ipc.js';
export { NdjsonFile } from './sinks/ndjson.js';
export { streamMetrics } from './sinks/metric-stream.js';
export { metricsTable, runsTable, snapshotsTable, neuronsTable, fieldTable } from './sinks/tables.js';

export { initBackend, BACKENDS, type BackendName } from './engine/backend.js';
export {
  resolveActivation,
  ACTIVATION_NAMES,
  type Activation,
  type ActivationSpec,
  type ActivationName,
} from './activations.js';
export { ENGINES, type EngineChoice, type EngineName } from './engine/training.js';
export { hiddenActivity } from './engine/forward.js';
export { WorkerPool } from './parallel/pool.js';

export { analyzeFiles, defaultAnalysisMetrics, type AnalyzeOptions } from './analysis.js';
export {
  definePipeline,
  runPipeline,
  networkSteps,
  selectShard,
  MAX_WORKERS,
  type Pipeline,
  type PipelineContext,
  type RunPipelineOptions,
} from './pipeline.js';
export type { Shard } from './sinks/results.js';

export * from './metrics/index.js';
