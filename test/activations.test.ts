import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend.js';
import { ACTIVATION_NAMES, resolveActivation, type ActivationSpec } from '../src/activations.js';
import { erf, normalCdf } from '../src/maths/special.js';
import { activationOps } from '../src/engine/activation-ops.js';

beforeAll(async () => {
  await initBackend();
});

const specs: ActivationSpec[] = [
  ...ACTIVATION_NAMES,
  { name: 'bounded-relu', u: 1.5 },
  { name: 'shifted-relu', s: -0.3 },
  { name: 'leaky-relu', slope: 0.2 },
  { name: 'softplus', beta: 3 },
  { name: 'elu', alpha: 0.5 },
];
// Points away from the kinks of the piecewise activations (0, u, ±1, −s).
const xs = [-3.1, -1.7, -0.83, -0.41, -0.07, 0.11, 0.52, 0.9, 1.27, 2.3, 4.2];

describe('activation family', () => {
  for (const spec of specs) {
    const act = resolveActivation(spec);
    it(`${act.label}: f′ matches a central finite difference of f`, () => {
      for (const x of xs) {
        const h = 1e-6;
        const fd = (act.f(x + h) - act.f(x - h)) / (2 * h);
        expect(act.df(x)).toBeCloseTo(fd, 6);
      }
    });
    it(`${act.label}: the tensor forward and derivative match the scalar ones`, () => {
      const z = tf.tensor1d(xs);
      const ops = activationOps(act);
      const h = ops.forward(z);
      const d = ops.derivative(z, h);
      const hv = h.dataSync(),
        dv = d.dataSync();
      xs.forEach((x, i) => {
        expect(hv[i]).toBeCloseTo(act.f(x), 5);
        expect(dv[i]).toBeCloseTo(act.df(x), 5);
      });
      tf.dispose([z, h, d]);
    });
  }
  it('has the documented defaults and labels', () => {
    expect(resolveActivation('relu').label).toBe('relu');
    expect(resolveActivation({ name: 'bounded-relu', u: 1.5 }).label).toBe('bounded-relu(u=1.5)');
    expect(resolveActivation('leaky-relu').params).toEqual({ slope: 0.01 });
    expect(resolveActivation({ name: 'bounded-relu' }).f(7)).toBe(1);
  });
  it('rejects unknown names and out-of-range parameters, naming the field', () => {
    expect(() => resolveActivation('swish')).toThrow(/activation: received "swish"; accepted: 'tanh', 'relu'/);
    expect(() => resolveActivation({ name: 'bounded-relu', u: 0 })).toThrow(
      /activation.u: received 0; accepted: a finite number > 0/,
    );
    expect(() => resolveActivation({ name: 'softplus', beta: -1 })).toThrow(/activation.beta/);
    expect(() => resolveActivation({ name: 'leaky-relu', slope: -0.1 })).toThrow(
      /activation.slope: received -0.1; accepted: a finite number >= 0/,
    );
    expect(() => resolveActivation({ name: 'tanh', u: 1 } as never)).toThrow(
      /activation.u: received 1; accepted: no parameters for 'tanh'/,
    );
  });
  it('erf and Φ agree with known values', () => {
    expect(erf(0)).toBe(0);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 14);
    expect(erf(-2.7)).toBeCloseTo(-0.9998656672600594, 14);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 12);
  });
});

describe('special functions in the tails', () => {
  it('Φ keeps its relative accuracy in the lower tail (no 1 + (erfc − 1) cancellation)', async () => {
    const { normalCdf, erfc } = await import('../src/maths/special.js');
    // Reference values: scipy.stats.norm.cdf.
    expect(normalCdf(-8) / 6.22096057427174e-16).toBeCloseTo(1, 10);
    expect(normalCdf(-10) / 7.61985302416047e-24).toBeCloseTo(1, 10);
    expect(normalCdf(3)).toBeCloseTo(0.9986501019683699, 14);
    expect(erfc(3) / 2.2090496998585445e-5).toBeCloseTo(1, 12);
  });
});
