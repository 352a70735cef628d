#!/usr/bin/env node
// The geomstream command. Registers the tsx loader so pipeline files can be TypeScript, then runs
// the CLI from the build (dist/) when present, else from the TypeScript sources.
import { register } from 'tsx/esm/api';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

register();
const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const { main } = await import(existsSync(built) ? built : '../src/cli/main.ts');
await main(process.argv);
