// The part of the WebAssembly JS API geomstream uses (engine/kernel, kernels/): Node has it, but this version of @types/node
// does not declare it, and the DOM library (which does) would bring browser globals with it.
declare namespace WebAssembly {
  interface Module {
    readonly __module: unique symbol;
  }
  const Module: { new (bytes: ArrayBuffer | Uint8Array): Module };
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  function compile(bytes: ArrayBuffer | Uint8Array): Promise<Module>;
  function instantiate(module: Module, imports?: Record<string, Record<string, unknown>>): Promise<Instance>;
}
