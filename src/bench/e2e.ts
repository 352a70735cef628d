/**
 * The end-to-end workload of `geomstream bench` ('e2e'): the default pipeline
 * (pipelines/tanh-vs-relu.ts) run whole — training, every checkpoint's metrics, the final CCGP and
 * SD, the results folder written — against bench/reference/e2e_reference.py, which does the same
 * work with PyTorch (2 threads) and numpy + scikit-learn (the classifier fits on 2 processes with
 * joblib). The reference gets the pipeline's tasks and settings from `writeE2eProblem`.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { pipelineParams, runPipeline, type Pipeline } from '../pipeline.js';
import { checkpointSteps, stepsPerEpoch } from '../config.js';
import { balancedDichotomies, conditionFolds } from '../metrics/index.js';
import type { Params } from '../params.js';
import type { TrainedRunSpec } from '../types.js';

/** The default pipeline's file, from src/bench (sources) or dist/bench (build). */
function defaultPipelineFile(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const file = join(here, '..', '..', 'pipelines', 'tanh-vs-relu.ts');
  if (!existsSync(file)) throw new Error(`bench: the default pipeline ${file} is not there`);
  return file;
}

async function defaultPipeline(): Promise<Pipeline<Params>> {
  return (await import(pathToFileURL(defaultPipelineFile()).href)).default as Pipeline<Params>;
}

/** Run the default pipeline into a fresh temporary folder (removed after); wall time in seconds and metric rows. */
export async function runE2e(workers: number, engine?: string): Promise<{ seconds: number; rows: number }> {
  const pipeline = await defaultPipeline();
  const dir = mkdtempSync(join(tmpdir(), 'geomstream-e2e-'));
  try {
    const t0 = performance.now();
    const summary = await runPipeline(pipeline, { out: dir, workers, engine });
    return { seconds: (performance.now() - t0) / 1000, rows: summary.metricRows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Write the default pipeline's tasks (one per ensemble) and settings as JSON for the reference. */
export async function writeE2eProblem(path: string): Promise<void> {
  const pipeline = await defaultPipeline();
  const seed = pipeline.seed ?? 0;
  const built = pipeline.runs({
    quick: false,
    params: pipelineParams(pipeline),
    seed,
    train: {},
    workers: 1,
    pool: null,
  });
  const runs = (Array.isArray(built) ? built : await lastValueFrom(built.pipe(toArray()))) as TrainedRunSpec[];
  const ensembles = new Map<string, TrainedRunSpec>();
  for (const r of runs) if (!ensembles.has(r.ensemble_id)) ensembles.set(r.ensemble_id, r);
  const first = runs[0];
  const { training, task } = first;
  const rowsOf = (m: { rows: number; cols: number; data: ArrayLike<number> }) =>
    Array.from({ length: m.rows }, (_, i) => Array.from(m.data).slice(i * m.cols, (i + 1) * m.cols));
  const P = task.means.rows;
  const perCondition = 50; // the pipeline's probe({ samplesPerCondition: 50 }), inside its process()
  const conditions = Int32Array.from({ length: P * perCondition }, (_, i) => Math.floor(i / perCondition));
  writeFileSync(
    path,
    JSON.stringify({
      grid: [...ensembles.values()].map((r) => ({
        activation: r.network.activation,
        means: rowsOf(r.task.means),
        targets: rowsOf(r.task.targets),
      })),
      seeds: runs.length / ensembles.size,
      width: first.network.width,
      lr: training.lr,
      epochs: training.epochs,
      batch: training.batch,
      samples: training.samples,
      sigma: Number(task.params.sigma),
      checkpoints: checkpointSteps(training.checkpoints, training.epochs * stepsPerEpoch(training)),
      samplesPerCondition: perCondition,
      dichotomies: balancedDichotomies(P),
      folds: Array.from(conditionFolds(conditions, P, 5, 0)),
    }),
  );
}
