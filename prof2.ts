import { writeFileSync } from 'node:fs';
import { Rng } from './src/random.js';
import { conditionFolds, balancedDichotomies } from './src/metrics/index.js';
const rng = new Rng(1); const P = 8, H = 128, per = 625;
const means = Array.from({ length: P }, () => Array.from({ length: H }, () => rng.normal()));
const samples: number[][] = []; const cond: number[] = [];
for (let p = 0; p < P; p++) for (let i = 0; i < per; i++) { cond.push(p); samples.push(means[p].map((m) => Math.tanh(m + 1.5 * rng.normal()))); }
const targets = Array.from({ length: P }, (_, p) => [p & 1, (p >> 1) & 1, (p >> 2) & 1]);
writeFileSync('/tmp/problem.json', JSON.stringify({ means: means.map((r) => r.map(Math.tanh)), inputs: Array.from({ length: P }, () => Array.from({ length: 100 }, () => rng.normal())), targets, samples, conditions: cond, folds: Array.from(conditionFolds(Int32Array.from(cond), P, 5, 0)), dichotomies: balancedDichotomies(P) }));
