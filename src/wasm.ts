/**
 * WebAssembly text → compiled module, through one instance of the `wabt` assembler (an npm package
 * that ships its own WebAssembly build), for the training kernel (engine/kernel), which is
 * generated per ensemble shape at run time: the specialised kernel is faster than a build-time one
 * with shapes as parameters (BENCHMARKS.md, "Training kernel: per-shape or prebuilt"). The dense
 * metric kernels (src/kernels) are assembled at build time instead (scripts/build-wasm.mjs).
 */
import wabtInit from 'wabt';

let wabt: ReturnType<typeof wabtInit> | null = null;

/** Assemble `text` (SIMD and bulk-memory instructions allowed) and compile it. */
export async function assembleWat(name: string, text: string): Promise<WebAssembly.Module> {
  wabt ??= wabtInit();
  const parsed = (await wabt).parseWat(name, text, { simd: true, bulk_memory: true });
  try {
    // Synchronously: an async compile waits behind wabt's own background work (BENCHMARKS.md).
    return new WebAssembly.Module(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}
