/**
 * Validate, then touch: a pipeline rejected for its options leaves the previous results folder
 * byte for byte as it was (issue: 10 of 58 bad inputs used to be rejected after the folder was cleared).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipe } from 'rxjs';
import {
  definePipeline,
  geometry,
  probe,
  runPipeline,
  train,
  type MetricRequest,
  type Pipeline,
} from '../src/index.js';
import { tinyPipeline } from './tiny-pipeline.js';

const out = mkdtempSync(join(tmpdir(), 'geomstream-validate-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Every file under `dir` with its bytes. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else files[p] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return files;
}

const base = tinyPipeline();
const withGeometry = (g: Parameters<typeof geometry>[0], name = base.name): Pipeline =>
  definePipeline({ ...base, name, process: (ctx) => pipe(train(ctx.train), probe(), geometry(g)) });

let before: Record<string, string>;
beforeAll(async () => {
  await runPipeline(base, { out });
  before = snapshot(join(out, base.name));
  expect(Object.keys(before).length).toBeGreaterThan(3);
});

const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
  [
    'a misspelt metric',
    () => runPipeline(withGeometry({ metrics: ['kernal_alignment' as never] }), { out }),
    /metrics\[0\]: received "kernal_alignment"/,
  ],
  [
    'classifier: 5',
    () => runPipeline(withGeometry({ metrics: [{ name: 'ccgp', classifier: 5 } as never] }), { out }),
    /metrics\[0\].classifier: received 5/,
  ],
  [
    "folds: 'five'",
    () => runPipeline(withGeometry({ metrics: [{ name: 'sd', folds: 'five' } as never] }), { out }),
    /metrics\[0\].folds: received "five"/,
  ],
  [
    "steps: 'sometimes'",
    () =>
      runPipeline(withGeometry({ metrics: [{ name: 'ps', steps: 'sometimes' } as unknown as MetricRequest] }), { out }),
    /metrics\[0\].steps: received "sometimes"/,
  ],
  ['geometry({ workers: 0 })', () => runPipeline(withGeometry({ workers: 0 }), { out }), /workers: received 0/],
  [
    '--workers 1000',
    () => runPipeline(base, { out, workers: 1000 }),
    /workers: received 1000; accepted: an integer >= 1 and <= 64/,
  ],
  [
    "a pipeline named '../victim'",
    () => runPipeline(withGeometry({}, '../victim'), { out: join(out, 'inner') }),
    /pipeline.name: received "..\/victim"/,
  ],
  ['an unknown format', () => runPipeline(base, { out, formats: ['csv' as never] }), /formats: received "csv"/],
  [
    'an unknown snapshot format',
    () => runPipeline(base, { out, snapshots: 'pickle' as never }),
    /snapshots: received "pickle"/,
  ],
];

describe('a rejected pipeline leaves the folder byte-identical', () => {
  for (const [name, run, message] of cases) {
    it(name, async () => {
      await expect(run()).rejects.toThrow(message);
      expect(snapshot(join(out, base.name))).toEqual(before);
      expect(readdirSync(out).sort()).toEqual([base.name]);
    });
  }
});
