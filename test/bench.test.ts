/**
 * `geomstream bench` and its Python references: every training workload's options reach
 * bench/reference/train_reference.py as arguments it accepts and reads back as the same options
 * (checked with its --check, which needs no torch), and a reference that fails or prints no result
 * makes the bench throw instead of leaving its reference column silently empty.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { referenceScript, runReference } from '../src/bench/bench.js';
import { referenceArgs, trainOptions, WORKLOADS, type TrainWorkload } from '../src/bench/workloads.js';

const trainWorkloads = WORKLOADS.filter((w): w is TrainWorkload => w.kind === 'train');
// Besides the bench's own: beta and alpha away from the script's defaults, so that dropping them shows.
const checked: TrainWorkload[] = [
  ...trainWorkloads,
  { ...trainWorkloads[0], name: 'softplus beta 2', activation: { name: 'softplus', beta: 2 } },
  { ...trainWorkloads[0], name: 'elu alpha 0.5', activation: { name: 'elu', alpha: 0.5 } },
];

const torchProbe = spawnSync('python3', ['-c', 'import numpy, torch'], { encoding: 'utf8' });
const torch = torchProbe.status === 0;
if (!torch && process.env.CI)
  throw new Error(`python3 with numpy and torch is required in CI: ${torchProbe.stderr || torchProbe.error}`);

describe('the training reference gets every workload as the workload says', () => {
  it('has the workloads of the issue', () => {
    const names = trainWorkloads.map((w) => w.name);
    for (const n of [
      'W1',
      'W-deep5-adam',
      'W-deep10-adam',
      'W1-adam',
      'W1-trained-readout',
      'W1-sigmoid',
      'W1-gelu',
      'W1-softplus',
      'W1-elu',
    ])
      expect(names).toContain(n);
  });

  for (const w of checked) {
    it(w.name, () => {
      const parsed = runReference([
        referenceScript('train_reference.py'),
        'batched',
        String(w.networks),
        String(w.width),
        String(w.bits),
        String(w.epochs),
        ...referenceArgs(w),
        '--check',
      ]);
      const o = trainOptions(w);
      const act = typeof o.activation === 'string' ? { name: o.activation } : o.activation;
      expect(parsed).toMatchObject({
        networks: w.networks,
        width: w.width,
        bits: w.bits,
        epochs: w.epochs,
        depth: o.depth,
        optimizer: o.optimizer,
        readout: o.readout,
        lr: o.lr,
        activation: act.name,
        beta: 'beta' in act ? act.beta : 1,
        alpha: 'alpha' in act ? act.alpha : 1,
      });
    });
  }
});

describe.skipIf(!torch)(
  "the training reference runs every workload's options (tiny: 2 networks of width 8, one timed epoch)",
  () => {
    // One workload per distinct set of options and bits (W1-wide differs from W1 only in width).
    const distinct = new Map<string, TrainWorkload>();
    for (const w of trainWorkloads)
      if (!distinct.has(`${w.bits} ${referenceArgs(w).join(' ')}`))
        distinct.set(`${w.bits} ${referenceArgs(w).join(' ')}`, w);
    for (const w of distinct.values()) {
      for (const mode of ['loop', 'batched']) {
        it(`${w.name}, ${mode}`, () => {
          const out = runReference([
            referenceScript('train_reference.py'),
            mode,
            '2',
            '8',
            String(w.bits),
            '1',
            '1',
            ...referenceArgs(w),
          ]);
          expect(out.netStepsPerSec).toBeGreaterThan(0);
          expect(Number.isFinite(out.netStepsPerSec)).toBe(true);
        }, 60_000);
      }
    }
  },
);

describe('a reference that fails is an error, not an empty column', () => {
  it('names the script and passes on its stderr when it exits non-zero', () => {
    expect(() =>
      runReference([referenceScript('train_reference.py'), 'batched', '10', '128', '3', '5', '--optimiser=adam']),
    ).toThrow(/train_reference\.py.*exited with 2[\s\S]*unrecognized arguments: --optimiser=adam/);
  });

  it('says so when it prints no JSON object', () => {
    expect(() => runReference(['-c', 'print("done")'])).toThrow(/printed no JSON object.*"done"/);
    expect(() => runReference(['-c', 'print("[1, 2]")'])).toThrow(/printed no JSON object/);
    expect(runReference(['-c', 'print("warming up"); print(\'{"seconds": 1.5}\')'])).toEqual({ seconds: 1.5 });
  });
});
