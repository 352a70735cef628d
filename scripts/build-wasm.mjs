#!/usr/bin/env node
// Assembles the WebAssembly text kernels in src/kernels/*.wat into .wasm binaries beside them (the
// library loads the binaries, so it needs no assembler at run time). `--copy DIR` also copies the
// binaries into DIR/kernels (the built package).
import { readdirSync, readFileSync, writeFileSync, mkdirSync, copyFileSync, renameSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'src', 'kernels');
const wabt = await wabtInit();
const copy = process.argv.indexOf('--copy');
for (const file of readdirSync(dir).filter((f) => f.endsWith('.wat'))) {
  const parsed = wabt.parseWat(file, readFileSync(join(dir, file), 'utf8'), { simd: true, bulk_memory: true });
  try {
    const out = join(dir, file.replace(/\.wat$/, '.wasm'));
    // Written under a temporary name and renamed: a test process may be loading the old one.
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, parsed.toBinary({}).buffer);
    renameSync(tmp, out);
    if (copy >= 0) {
      const target = join(root, process.argv[copy + 1], 'kernels');
      mkdirSync(target, { recursive: true });
      copyFileSync(out, join(target, file.replace(/\.wat$/, '.wasm')));
    }
  } finally {
    parsed.destroy();
  }
}
