#!/usr/bin/env node
// The geomstream command. Registers the tsx loader so pipeline files can be TypeScript, then runs
// the CLI: from the TypeScript sources when they are there (a checkout, or the installed package,
// which ships them for its pipelines), else from the build (dist/).
import { register } from 'tsx/esm/api';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

register();
const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const { main } = await import(existsSync(source) ? source : built);
await main(process.argv);
