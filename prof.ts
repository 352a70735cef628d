import { Rng } from './src/random.js';
import { ccgp, shatteringDimensionality } from './src/metrics/index.js';
const rng = new Rng(1); const P = 8, H = 128, per = Number(process.argv[2] ?? 50);
const means = Array.from({ length: P }, () => Array.from({ length: H }, () => rng.normal()));
const data = new Float64Array(P * per * H); const cond = new Int32Array(P * per);
for (let p = 0; p < P; p++) for (let i = 0; i < per; i++) { cond[p * per + i] = p; for (let j = 0; j < H; j++) data[(p * per + i) * H + j] = Math.tanh(means[p][j] + 1.5 * rng.normal()); }
const X = { rows: P * per, cols: H, data };
for (const classifier of ['svm', 'ridge'] as const) {
  let t0 = performance.now(); const c = ccgp(X, cond, [1, 3, 5, 7], { classifier }); const t1 = performance.now();
  const s = shatteringDimensionality(X, cond, { classifier }); const t2 = performance.now();
  console.log(classifier, 'ccgp', (t1 - t0).toFixed(0), 'ms', c.value.toFixed(3), 'sd', (t2 - t1).toFixed(0), 'ms', s.value.toFixed(3));
}
