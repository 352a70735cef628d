/**
 * Special functions that JavaScript's Math lacks: erf and the standard normal CDF Φ, needed by
 * gelu and by the noise-smoothed derivatives of the weight-space analysis (docs/science.md §4).
 */
const SQRT1_2 = Math.SQRT1_2;

/**
 * erf(x) to about 1e-15: Taylor series for |x| < 2.5, else the continued fraction for erfc
 * (Abramowitz & Stegun 7.1.5 and 7.1.14).
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = x,
      sum = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  const tail = erfcTail(ax);
  return x > 0 ? 1 - tail : tail - 1;
}

/**
 * erfc(x) for x ≥ 2.5 by its continued fraction (A&S 7.1.14), evaluated bottom-up:
 * erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
 */
function erfcTail(ax: number): number {
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  return Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
}

/** erfc(x) = 1 − erf(x), without cancellation in the upper tail (x ≥ 2.5: the continued fraction). */
export function erfc(x: number): number {
  return x >= 2.5 ? erfcTail(x) : 1 - erf(x);
}

/** Standard normal CDF Φ(x) = erfc(−x/√2) / 2 (accurate in the lower tail: Φ(−10) ≈ 7.62e−24). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}
