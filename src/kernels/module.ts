/**
 * The f64x2 WebAssembly kernels of dense.wat, shared by the metrics (DenseRows, choleskySolve) and
 * the engine's float64 forward pass (affine): the module, built from dense.wat at build time
 * (scripts/build-wasm.mjs) and compiled synchronously on first use — so importing the metrics needs
 * no assembler and no top-level await — and a pool of its instances with their memories.
 */
import { readFileSync } from 'node:fs';

let compiled: WebAssembly.Module | null = null;

/** The compiled kernels, built from dense.wat (`npm run build:wasm`, run by `prepare`). */
function kernels(): WebAssembly.Module {
  if (compiled) return compiled;
  const url = new URL('./dense.wasm', import.meta.url);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(url);
  } catch (e) {
    throw new Error(
      `geomstream: ${url.pathname} is missing; build it with \`npm run build:wasm\` (${(e as Error).message})`,
    );
  }
  return (compiled = new WebAssembly.Module(bytes));
}

export const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/**
 * Module instances with their memories, reused: allocating a fresh WebAssembly memory for every
 * fit (a few MB, zero-filled, page-faulted in) cost more than the fit's arithmetic.
 */
export interface Slot {
  memory: WebAssembly.Memory;
  fns: {
    dots: (...a: number[]) => void;
    outer: (...a: number[]) => void;
    cholsolve: (...a: number[]) => void;
    affine: (...a: number[]) => void;
    tdots: (...a: number[]) => void;
    dualpass: (...a: number[]) => number;
  };
}
const free: Slot[] = [];

/** Give a slot back for reuse; its views must not be used afterwards. */
export function release(slot: Slot): void {
  free.push(slot);
}

export function acquire(bytes: number): Slot {
  const slot =
    free.pop() ??
    (() => {
      const memory = new WebAssembly.Memory({ initial: 1 });
      return {
        memory,
        fns: new WebAssembly.Instance(kernels(), { env: { memory } }).exports as unknown as Slot['fns'],
      };
    })();
  const have = slot.memory.buffer.byteLength;
  if (have < bytes) slot.memory.grow(Math.ceil((bytes - have) / 65536));
  return slot;
}
