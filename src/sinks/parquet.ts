/**
 * Parquet output through parquet-wasm (the Rust `parquet` crate compiled to WebAssembly): it takes
 * Arrow tables, writes standard 3-level LIST encoding and dictionary-encoded strings, and supports
 * zstd and snappy. (parquetjs-lite, the first candidate, is unmaintained since 2020, rounds INT64
 * above 2^53 and writes bare repeated columns that polars misreads.)
 */
import { createRequire } from 'node:module';
import { tableToIPC, type Table } from 'apache-arrow';
import { writeFileAtomic } from './atomic.js';

// parquet-wasm's Node build is CommonJS and loads its .wasm synchronously on require.
const require = createRequire(import.meta.url);
const pq = require('parquet-wasm') as typeof import('parquet-wasm');

export type ParquetCompression = 'zstd' | 'snappy' | 'none';

/** Encode an Arrow table as Parquet bytes (zstd by default). */
export function encodeParquet(table: Table, compression: ParquetCompression = 'zstd'): Uint8Array {
  const codec = { zstd: pq.Compression.ZSTD, snappy: pq.Compression.SNAPPY, none: pq.Compression.UNCOMPRESSED }[
    compression
  ];
  const props = new pq.WriterPropertiesBuilder().setCompression(codec).setDictionaryEnabled(true).build();
  const wasmTable = pq.Table.fromIPCStream(tableToIPC(table, 'stream'));
  return pq.writeParquet(wasmTable, props);
}

/** Write an Arrow table to a Parquet file, atomically. */
export async function writeParquet(
  table: Table,
  path: string,
  compression: ParquetCompression = 'zstd',
): Promise<void> {
  await writeFileAtomic(path, encodeParquet(table, compression));
}
