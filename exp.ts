import { from, lastValueFrom, toArray } from 'rxjs';
import { sweepRuns, train, probe, geometry, alignedParity } from '/work/main/src/index.js';
const c = Number(process.argv[2] ?? 0); const epochs = Number(process.argv[3] ?? 200); const lr = Number(process.argv[4] ?? 0.1);
const runs = sweepRuns({ seed: 2024, grid: { alignment: [c], activation: ['tanh', 'relu'] as const }, seeds: 3,
  run: (p, s) => ({ task: alignedParity({ d: 3, k: 3, alignment: p.alignment, seed: s.task }), network: { activation: p.activation }, training: { lr, epochs, checkpoints: { logSpaced: 10 } } }) });
const recs = await lastValueFrom(from(runs).pipe(train(), probe(), geometry(), toArray()));
const rows = recs.filter((r: any) => r.kind === 'metric' && r.scope === 'run') as any[];
const steps = [...new Set(rows.map(r => r.step))].sort((a, b) => a - b);
for (const act of ['tanh', 'relu']) for (const st of steps) {
  const sel = rows.filter(r => r.step === st && r.run_id.includes(act));
  const avg = (m: string, a: string) => { const v = sel.filter(r => r.metric === m && r.against === a).map(r => r.value); return (v.reduce((x, y) => x + y, 0) / v.length).toFixed(3); };
  console.log(act, st, 'in', avg('kernel_alignment', 'input'), 'tg', avg('kernel_alignment', 'target'), 'loss', avg('loss', 'target'), 'acc', avg('accuracy', 'target'));
}
