// Registered with `node --import`: records the URL of every module loaded (ESM loads, and CommonJS
// requires through the ESM loader) to the file named by GEOMSTREAM_LOAD_LOG, for the layer tests.
import { register } from 'node:module';
import { Module } from 'node:module';
import { appendFileSync } from 'node:fs';

register(new URL('./load-hooks.mjs', import.meta.url));
// CommonJS requires (DuckDB's addon loader, tfjs's CJS builds) bypass the ESM hooks: record them too.
const load = Module._load;
Module._load = function (request, parent, isMain) {
  appendFileSync(process.env.GEOMSTREAM_LOAD_LOG, `require:${request}\n`);
  return load.call(this, request, parent, isMain);
};
