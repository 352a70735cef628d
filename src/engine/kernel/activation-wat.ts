/**
 * The activations the training kernel computes, as WebAssembly text on f32x4 vectors: f applied
 * in place, and f′ from the activity. Written for wat.ts's kernel.
 */

/**
 * Activations the kernel computes, by their form: `tanh`; `clip`: min(max(z + shift, lo), hi)
 * (relu, bounded-relu, shifted-relu, hard-tanh, identity); `leaky`: z > 0 ? z : slope·z.
 */
export type KernelActivation =
  | { form: 'tanh' }
  | { form: 'clip'; shift: number; lo: number; hi: number }
  | { form: 'leaky'; slope: number };

/**
 * tanh(x) ≈ x·P(x²)/Q(x²) on |x| ≤ 9 (beyond, tanh rounds to ±1 in float32): a degree-(4, 4)
 * rational fitted here by iteratively reweighted least squares on the relative error. Max
 * error evaluated in float32 over [−9, 9]: 3.5e-7 absolute and relative (test/kernel.test.ts).
 */
const TANH_P = [
  0.9999999794840084, 0.13381076361304725, 0.0034956481684593837, 2.0610061909132234e-5, 1.3356002026565506e-8,
];
const TANH_Q = [1.0, 0.46714391974810393, 0.02587721113826287, 0.0003285732651518579, 7.777110574321011e-7];

const f32 = (v: number) => {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return Number.isInteger(v) ? v.toFixed(1) : v.toPrecision(17);
};
const splat = (v: number) => `(f32x4.splat (f32.const ${f32(v)}))`;

/** Horner's rule on a vector t for coefficients c (lowest degree first). */
function horner(c: number[], t: string): string {
  let e = splat(c[c.length - 1]);
  for (let i = c.length - 2; i >= 0; i--) e = `(f32x4.add (f32x4.mul ${e} ${t}) ${splat(c[i])})`;
  return e;
}

/** Statements applying the activation to local $v in place (uses $t, $u as scratch). */
export function activate(act: KernelActivation): string {
  switch (act.form) {
    case 'tanh':
      // pmin/pmax with $v first keep NaN (pmax(a, b) = a < b ? b : a).
      return `(local.set $v (f32x4.pmin (f32x4.pmax (local.get $v) ${splat(-9)}) ${splat(9)}))
        (local.set $t (f32x4.mul (local.get $v) (local.get $v)))
        (local.set $v (f32x4.div (f32x4.mul (local.get $v) ${horner(TANH_P, '(local.get $t)')}) ${horner(TANH_Q, '(local.get $t)')}))
        (local.set $v (f32x4.pmin (f32x4.pmax (local.get $v) ${splat(-1)}) ${splat(1)}))`;
    case 'clip': {
      let e = '(local.get $v)';
      if (act.shift !== 0) e = `(f32x4.add ${e} ${splat(act.shift)})`;
      if (act.lo !== -Infinity) e = `(f32x4.pmax ${e} ${splat(act.lo)})`;
      if (act.hi !== Infinity) e = `(f32x4.pmin ${e} ${splat(act.hi)})`;
      return `(local.set $v ${e})`;
    }
    case 'leaky':
      return `(local.set $v (v128.bitselect (local.get $v) (f32x4.mul (local.get $v) ${splat(act.slope)}) (f32x4.gt (local.get $v) ${splat(0)})))`;
  }
}

/** An expression for f′ from the activity in local $v. */
export function derivative(act: KernelActivation): string {
  switch (act.form) {
    case 'tanh':
      return `(f32x4.sub ${splat(1)} (f32x4.mul (local.get $v) (local.get $v)))`;
    case 'clip': {
      const tests: string[] = [];
      if (act.lo !== -Infinity) tests.push(`(f32x4.gt (local.get $v) ${splat(act.lo)})`);
      if (act.hi !== Infinity) tests.push(`(f32x4.lt (local.get $v) ${splat(act.hi)})`);
      if (!tests.length) return splat(1);
      const mask = tests.length === 1 ? tests[0] : `(v128.and ${tests[0]} ${tests[1]})`;
      return `(v128.and ${mask} ${splat(1)})`;
    }
    case 'leaky':
      return `(v128.bitselect ${splat(1)} ${splat(act.slope)} (f32x4.gt (local.get $v) ${splat(0)}))`;
  }
}
