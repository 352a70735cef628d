/**
 * The activation family of docs/science.md §2, each with its derivative, as scalar float64 functions
 * (probes, weight-space analysis, tests). The tensor forms used in training are in
 * engine/activation-ops.ts, so that resolving an activation never loads TensorFlow.js.
 *
 * Named in configurations as a string (`'relu'`) or an object with parameters
 * (`{ name: 'bounded-relu', u: 1.5 }`). Parameters and defaults:
 *   tanh, relu, hard-tanh (clip(x, −1, 1)), sigmoid, gelu (exact, x·Φ(x)), identity: none
 *   bounded-relu: u > 0 (default 1)          clip(x, 0, u)
 *   shifted-relu: s, any finite (default 0)  relu(x + s)
 *   leaky-relu:   slope ≥ 0 (default 0.01)   x > 0 ? x : slope·x
 *   softplus:     beta > 0 (default 1)       log(1 + exp(beta·x)) / beta
 *   elu:          alpha ≥ 0 (default 1)      x > 0 ? x : alpha·(exp(x) − 1)
 */
import { ConfigError, requireNumber } from './errors.js';
import { normalCdf } from './maths/special.js';

export const ACTIVATION_NAMES = [
  'tanh',
  'relu',
  'bounded-relu',
  'shifted-relu',
  'leaky-relu',
  'softplus',
  'hard-tanh',
  'sigmoid',
  'gelu',
  'elu',
  'identity',
] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export type ActivationSpec =
  | ActivationName
  | { name: 'tanh' | 'relu' | 'hard-tanh' | 'sigmoid' | 'gelu' | 'identity' }
  | { name: 'bounded-relu'; u?: number }
  | { name: 'shifted-relu'; s?: number }
  | { name: 'leaky-relu'; slope?: number }
  | { name: 'softplus'; beta?: number }
  | { name: 'elu'; alpha?: number };

/** A resolved activation: its name, parameters, label, and f and f′ as float64 scalars. */
export interface Activation {
  name: ActivationName;
  /** Parameters with defaults filled in (empty for parameter-free activations). */
  params: Record<string, number>;
  /** Canonical label, e.g. 'tanh' or 'bounded-relu(u=1.5)'; the `activation` column of runs.parquet. */
  label: string;
  f(x: number): number;
  df(x: number): number;
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function scalar(name: ActivationName, p: Record<string, number>): Pick<Activation, 'f' | 'df'> {
  switch (name) {
    case 'tanh':
      return { f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2 };
    case 'relu':
      return { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0) };
    case 'bounded-relu':
      return { f: (x) => Math.min(Math.max(x, 0), p.u), df: (x) => (x > 0 && x < p.u ? 1 : 0) };
    case 'shifted-relu':
      return { f: (x) => Math.max(x + p.s, 0), df: (x) => (x + p.s > 0 ? 1 : 0) };
    case 'leaky-relu':
      return { f: (x) => (x > 0 ? x : p.slope * x), df: (x) => (x > 0 ? 1 : p.slope) };
    case 'softplus': {
      const b = p.beta;
      // log(1 + e^(bx)) / b, written to avoid overflow for large bx.
      return {
        f: (x) => (Math.max(b * x, 0) + Math.log1p(Math.exp(-Math.abs(b * x)))) / b,
        df: (x) => 1 / (1 + Math.exp(-b * x)),
      };
    }
    case 'hard-tanh':
      return { f: (x) => Math.min(Math.max(x, -1), 1), df: (x) => (x > -1 && x < 1 ? 1 : 0) };
    case 'sigmoid': {
      const f = (x: number) => 1 / (1 + Math.exp(-x));
      return { f, df: (x) => f(x) * (1 - f(x)) };
    }
    case 'gelu':
      return { f: (x) => x * normalCdf(x), df: (x) => normalCdf(x) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x) };
    case 'elu':
      return { f: (x) => (x > 0 ? x : p.alpha * Math.expm1(x)), df: (x) => (x > 0 ? 1 : p.alpha * Math.exp(x)) };
    case 'identity':
      return { f: (x) => x, df: () => 1 };
  }
}

const PARAMS: Record<
  ActivationName,
  Record<string, { default: number; check: (field: string, v: unknown) => number }>
> = {
  tanh: {},
  relu: {},
  'hard-tanh': {},
  sigmoid: {},
  gelu: {},
  identity: {},
  'bounded-relu': { u: { default: 1, check: (f, v) => requireNumber(f, v, { min: 0, exclusiveMin: true }) } },
  'shifted-relu': { s: { default: 0, check: (f, v) => requireNumber(f, v) } },
  'leaky-relu': { slope: { default: 0.01, check: (f, v) => requireNumber(f, v, { min: 0 }) } },
  softplus: { beta: { default: 1, check: (f, v) => requireNumber(f, v, { min: 0, exclusiveMin: true }) } },
  elu: { alpha: { default: 1, check: (f, v) => requireNumber(f, v, { min: 0 }) } },
};

/**
 * Resolve and validate an activation spec. Throws a `ConfigError` naming `field` for an unknown
 * name, an unknown parameter, or a parameter out of range (u ≤ 0, beta ≤ 0, slope < 0, alpha < 0).
 */
export function resolveActivation(s: ActivationSpec | unknown, field = 'activation'): Activation {
  const obj = typeof s === 'string' ? { name: s } : s;
  if (!obj || typeof obj !== 'object' || typeof (obj as { name?: unknown }).name !== 'string') {
    throw new ConfigError(
      field,
      s,
      `one of ${ACTIVATION_NAMES.map((n) => `'${n}'`).join(', ')}, or { name, ...parameters }`,
    );
  }
  const name = (obj as { name: string }).name;
  if (!(ACTIVATION_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(field, name, ACTIVATION_NAMES.map((n) => `'${n}'`).join(', '));
  }
  const known = PARAMS[name as ActivationName];
  const params: Record<string, number> = {};
  for (const key of Object.keys(obj)) {
    if (key !== 'name' && !(key in known)) {
      throw new ConfigError(
        `${field}.${key}`,
        (obj as Record<string, unknown>)[key],
        Object.keys(known).length
          ? `only the parameters ${Object.keys(known).join(', ')} for '${name}'`
          : `no parameters for '${name}'`,
      );
    }
  }
  for (const [key, p] of Object.entries(known)) {
    const v = (obj as Record<string, unknown>)[key];
    params[key] = v === undefined ? p.default : p.check(`${field}.${key}`, v);
  }
  const entries = Object.entries(params);
  const label = entries.length === 0 ? name : `${name}(${entries.map(([k, v]) => `${k}=${v}`).join(',')})`;
  return { name: name as ActivationName, params, label, ...scalar(name as ActivationName, params) };
}
