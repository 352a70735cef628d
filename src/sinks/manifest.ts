/**
 * The manifest of a results folder (manifest.json, or manifest.<shard>.json): what the writer
 * wrote, whether it is complete, and what a resumed writer must share with it. Read back by
 * planDataset (dataset.ts) and `geomstream status`.
 */
import { ERROR_COLUMNS, FIELD_COLUMNS, METRIC_COLUMNS, NEURON_COLUMNS } from './tables.js';
import type { EnsembleEntry, Shard } from './dataset.js';

/** The version of the files' layout and columns; a change is refused on resume, never mixed. */
export const SCHEMA_VERSION = 4;

export interface ManifestParts {
  pipeline: string;
  shard: Shard | null;
  complete: boolean;
  error: string | null;
  /** How the stream stopped (complete manifests only). */
  stopped: string | null;
  backend: string | null;
  configuration: Record<string, unknown>;
  identity: Record<string, unknown> | null;
  files: string[];
  runs: { total: number; completed: number; diverged: number; failed: number };
  metricRows: number;
  errorRows: number;
  ensemblesInPipeline: number | null;
  expectedEnsembles: string[] | null;
  ensembles: EnsembleEntry[] | null;
  runColumns: string[];
}

/** The manifest's JSON text, its field names the document's (snake case), files sorted. */
export function manifestText(m: ManifestParts): string {
  const doc = {
    schema_version: SCHEMA_VERSION,
    pipeline: m.pipeline,
    shard: m.shard,
    complete: m.complete,
    error: m.error,
    stopped: m.stopped,
    updated_at: new Date().toISOString(),
    backend: m.backend,
    configuration: m.configuration,
    identity: m.identity,
    files: [...m.files].sort(),
    runs: m.runs,
    metric_rows: m.metricRows,
    error_rows: m.errorRows,
    ensembles_in_pipeline: m.ensemblesInPipeline,
    expected_ensembles: m.expectedEnsembles,
    ensembles: m.ensembles,
    columns: {
      metrics: Object.keys(METRIC_COLUMNS),
      neurons: Object.keys(NEURON_COLUMNS),
      field: Object.keys(FIELD_COLUMNS),
      errors: Object.keys(ERROR_COLUMNS),
      runs: m.runColumns,
    },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
