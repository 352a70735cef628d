// Property tests draw from a fixed seed so that a CI run is reproducible; change the seed locally
// (FC_SEED=...) to explore other cases.
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261127), numRuns: 100 });
