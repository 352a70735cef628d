/**
 * `geomstream`: sources, operators, sinks and the run API. The pure metrics are in
 * `geomstream/metrics` (re-exported here too).
 */
export type * from './types.js';
export { ConfigError } from './errors.js';
export { Rng, deriveSeed } from './random.js';
export { networkConfig, trainingConfig, checkpointSteps, stepsPerEpoch, NETWORK_DEFAULTS, TRAINING_DEFAULTS,
  type NetworkOptions, type TrainingOptions } from './config.js';

export { alignedParity, alignedWeights, parityFeatures, type AlignedParityOptions } from './sources/aligned-parity.js';
export { separableXor, type SeparableXorOptions } from './sources/separable-xor.js';
export { unstructured, type UnstructuredOptions } from './sources/unstructured.js';
export { sweep, sweepRuns, gridPoints, type SweepOptions, type SweepPoint, type PointSeeds } from './sources/sweep.js';

export { train, trainRuns, type TrainOptions } from './operators/train.js';
export { probe, representationOf, type ProbeOptions } from './operators/probe.js';
export { geometry, type GeometryOptions, type MetricRequest } from './operators/geometry.js';
export { GEOMETRY_METRICS, signedTargets, taskDichotomies, type GeometryMetric, type MetricValue } from './operators/geometry-metrics.js';
export { weightDynamics, neuronRows, fieldRows, type WeightDynamicsOptions, type FieldOptions } from './operators/weight-dynamics.js';

export { writeResults, prepareResultsDir, FORMATS, SCHEMA_VERSION, type ResultsOptions, type ResultsSummary, type ResultFormat } from './sinks/results.js';
export { writeParquet, encodeParquet } from './sinks/parquet.js';
export { ArrowStreamFile } from './sinks/arrow-ipc.js';
export { NdjsonFile } from './sinks/ndjson.js';
export { metricsTable, runsTable, snapshotsTable, neuronsTable, fieldTable } from './sinks/tables.js';

export { initBackend, BACKENDS, type BackendName } from './engine/backend.js';
export { resolveActivation, ACTIVATION_NAMES, erf, normalCdf, type Activation, type ActivationSpec, type ActivationName } from './engine/activations.js';
export { Ensemble, initialParams } from './engine/ensemble.js';
export { trainEnsemble, ENGINES, type EngineChoice, type EngineName, type TrainEvent, type CheckpointEvent } from './engine/training.js';
export { hiddenActivity, evaluate } from './engine/forward.js';

export { definePipeline, runPipeline, networkSteps, selectShard, type Pipeline, type PipelineContext, type RunPipelineOptions } from './pipeline.js';
export type { Shard } from './sinks/results.js';
export { queryResults, formatTable } from './cli/query.js';
export { report } from './cli/report.js';

export * from './metrics/index.js';
