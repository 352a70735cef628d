/**
 * WebAssembly text → compiled module, through one instance of the `wabt` assembler (an npm package
 * that ships its own WebAssembly build), for the training kernel (engine/kernel), which is
 * generated per ensemble shape at run time. The dense metric kernels (src/kernels) are assembled
 * at build time instead (scripts/build-wasm.mjs).
 */
import wabtInit from 'wabt';

let wabt: ReturnType<typeof wabtInit> | null = null;

/** Assemble `text` (SIMD and bulk-memory instructions allowed) and compile it. */
export async function assembleWat(name: string, text: string): Promise<WebAssembly.Module> {
  wabt ??= wabtInit();
  const parsed = (await wabt).parseWat(name, text, { simd: true, bulk_memory: true });
  try {
    return await WebAssembly.compile(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}
