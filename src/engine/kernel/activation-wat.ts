/**
 * The activations the training kernel computes, as WebAssembly text on f32x4 vectors: f applied
 * in place, and f′ either from the activity or computed with f (then stored). Written for wat.ts's kernel.
 */

/**
 * Activations the kernel computes, by their form: `tanh`; `clip`: min(max(z + shift, lo), hi)
 * (relu, bounded-relu, shifted-relu, hard-tanh, identity); `leaky`: z > 0 ? z : slope·z;
 * `sigmoid`; `softplus`: log(1 + e^(βz))/β; `gelu`: z·Φ(z); `elu`: z > 0 ? z : α(e^z − 1).
 */
export type KernelActivation =
  | { form: 'tanh' }
  | { form: 'clip'; shift: number; lo: number; hi: number }
  | { form: 'leaky'; slope: number }
  | { form: 'sigmoid' }
  | { form: 'softplus'; beta: number }
  | { form: 'gelu' }
  | { form: 'elu'; alpha: number };

/** Whether f′ is computed with f and stored (it is not a function of f alone, or not an accurate one). */
export function storesDerivative(act: KernelActivation): boolean {
  return act.form === 'softplus' || act.form === 'gelu';
}

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

/**
 * Statements setting local `out` to e^x for the vector expression x (evaluated once; uses $r, $n):
 * Cephes' expf — x = n·ln 2 + r with n = round(x·log₂e) and ln 2 split in two for an exact r,
 * e^r by a degree-7 polynomial (1 + r + r²·P₅(r)) on |r| ≤ ln 2 / 2, 2^n built in the exponent bits. The argument is
 * clamped to [−87.3, 88.3] (the normal range; NaN stays NaN). Max relative error measured in
 * float32: 1.2e-7 (test/kernel.test.ts).
 */
export function exp(x: string, out: string): string {
  const C = [
    1.0, 1.0, 5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3, 1.3981999507e-3, 1.98756915e-4,
  ];
  return `(local.set $r (f32x4.pmin (f32x4.pmax ${x} ${splat(-87.3)}) ${splat(88.3)}))
        (local.set $n (f32x4.nearest (f32x4.mul (local.get $r) ${splat(Math.LOG2E)})))
        (local.set $r (f32x4.sub (f32x4.sub (local.get $r) (f32x4.mul (local.get $n) ${splat(0.693359375)})) (f32x4.mul (local.get $n) ${splat(-2.1219444e-4)})))
        (local.set ${out} (f32x4.mul ${horner(C, '(local.get $r)')}
          (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))`;
}

/**
 * Statements setting $r to log(1 + u) for local u in [0, 1] (uses $n): 2·atanh(s) with
 * s = u/(2 + u) ≤ 1/3, its series to s¹⁵ (the rest is below 1.5e-9 relative).
 */
function log1p01(u: string): string {
  return `(local.set $r (f32x4.div (local.get ${u}) (f32x4.add (local.get ${u}) ${splat(2)})))
        (local.set $n (f32x4.mul (local.get $r) (local.get $r)))
        (local.set $r (f32x4.mul (local.get $r) ${horner([2, 2 / 3, 2 / 5, 2 / 7, 2 / 9, 2 / 11, 2 / 13, 2 / 15], '(local.get $n)')}))`;
}

/** erfc(|x|)·e^(x²) (Abramowitz & Stegun 7.1.26: |erf error| ≤ 1.5e-7) for the vector expression |x|. */
function erfcScaled(ax: string): string {
  const t = `(local.get $t)`;
  return `(local.set $t (f32x4.div ${splat(1)} (f32x4.add ${splat(1)} (f32x4.mul ${ax} ${splat(0.3275911)}))))
        (local.set $u (f32x4.mul ${t} ${horner([0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429], t)}))`;
}

/**
 * Statements applying the activation to local $v in place (uses $t, $u, $e, $r, $n as scratch);
 * for an activation that stores its derivative, they set $d to f′ as well.
 */
export function activate(act: KernelActivation): string {
  switch (act.form) {
    case 'sigmoid':
      return `${exp(`(f32x4.neg (local.get $v))`, '$e')}
        (local.set $v (f32x4.div ${splat(1)} (f32x4.add ${splat(1)} (local.get $e))))`;
    case 'softplus':
      // (max(y, 0) + log1p(e^(−|y|)))/β with y = βz; f′ = σ(y) from the same e^(−|y|).
      return `(local.set $t (f32x4.mul (local.get $v) ${splat(act.beta)}))
        ${exp(`(f32x4.neg (f32x4.abs (local.get $t)))`, '$e')}
        (local.set $u (f32x4.div ${splat(1)} (f32x4.add ${splat(1)} (local.get $e))))
        (local.set $d (v128.bitselect (local.get $u) (f32x4.mul (local.get $e) (local.get $u)) (f32x4.ge (local.get $t) ${splat(0)})))
        ${log1p01('$e')}
        (local.set $v (f32x4.div (f32x4.add (f32x4.pmax (local.get $t) ${splat(0)}) (local.get $r)) ${splat(act.beta)}))`;
    case 'gelu':
      // Φ(z) = ½·erfc(−z/√2): q = erfc(|z|/√2) = u·e^(−z²/2); f′ = Φ(z) + z·e^(−z²/2)/√(2π).
      return `${exp(`(f32x4.mul (f32x4.mul (local.get $v) (local.get $v)) ${splat(-0.5)})`, '$e')}
        ${erfcScaled(`(f32x4.mul (f32x4.abs (local.get $v)) ${splat(Math.SQRT1_2)})`)}
        (local.set $u (f32x4.mul (f32x4.mul (local.get $u) (local.get $e)) ${splat(0.5)}))
        (local.set $u (v128.bitselect (f32x4.sub ${splat(1)} (local.get $u)) (local.get $u) (f32x4.ge (local.get $v) ${splat(0)})))
        (local.set $d (f32x4.add (local.get $u) (f32x4.mul (f32x4.mul (local.get $v) (local.get $e)) ${splat(1 / Math.sqrt(2 * Math.PI))})))
        (local.set $v (f32x4.mul (local.get $v) (local.get $u)))`;
    case 'elu':
      return `${exp('(local.get $v)', '$e')}
        (local.set $v (v128.bitselect (local.get $v) (f32x4.mul (f32x4.sub (local.get $e) ${splat(1)}) ${splat(act.alpha)}) (f32x4.gt (local.get $v) ${splat(0)})))`;
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

/** An expression for f′ from the activity in local $v (for the activations that do not store it). */
export function derivative(act: KernelActivation): string {
  switch (act.form) {
    case 'sigmoid':
      return `(f32x4.mul (local.get $v) (f32x4.sub ${splat(1)} (local.get $v)))`;
    case 'elu':
      // z ≤ 0: f′ = α·e^z = f + α.
      return `(v128.bitselect ${splat(1)} (f32x4.add (local.get $v) ${splat(act.alpha)}) (f32x4.gt (local.get $v) ${splat(0)}))`;
    case 'softplus':
    case 'gelu':
      throw new Error(`the kernel stores f′ of ${act.form}`);
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
