/**
 * Arrow tables from Parquet or Arrow IPC bytes (file or stream format), for the activation
 * sources. Parquet is decoded by parquet-wasm (the Rust `parquet` crate, as the sinks use).
 */
import { createRequire } from 'node:module';
import { tableFromIPC, type Table } from 'apache-arrow';
import { ConfigError } from '../errors.js';

const require = createRequire(import.meta.url);
let pq: typeof import('parquet-wasm') | null = null;

/** The table in `bytes`: Parquet when they start with 'PAR1', else Arrow IPC (file or stream). Throws a ConfigError naming `field`. */
export function readTable(bytes: Uint8Array, field = 'file'): Table {
  const isParquet =
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x41 && bytes[2] === 0x52 && bytes[3] === 0x31;
  try {
    if (isParquet) {
      pq ??= require('parquet-wasm') as typeof import('parquet-wasm');
      return tableFromIPC(pq.readParquet(bytes).intoIPCStream());
    }
    return tableFromIPC(bytes);
  } catch (e) {
    throw new ConfigError(
      field,
      `${bytes.length} bytes`,
      `a ${isParquet ? 'Parquet' : 'Arrow IPC'} table (${(e as Error).message})`,
    );
  }
}
