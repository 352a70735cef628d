/**
 * NPZ, numpy's archive of arrays (numpy.savez / numpy.savez_compressed): a ZIP file (PKWARE
 * APPNOTE.TXT) whose entries are NPY files named "<key>.npy". fflate does the (de)compression; the
 * central directory is checked here first, because fflate reads out-of-range bytes as zeros, trusts
 * the entry count (a forged zip64 count would loop billions of times) and skips the CRC-32.
 */
// fflate's platform-neutral build: its Node build loads worker_threads at import (for the async API,
// unused here), and the ingestion sources load no worker code.
import { unzipSync, zipSync, type Zippable } from 'fflate/browser';
import { ConfigError } from '../errors.js';
import { readNpy, writeNpy } from './npy.js';
import type { Tensor } from './tensor.js';

/** Default cap on one entry's uncompressed size: 2 GiB. */
export const NPZ_MAX_ENTRY_BYTES = 2 * 1024 ** 3;

/** Deflate cannot expand more than 1032:1 (a 258-byte match in 2 bits); a larger declared size is forged. */
const MAX_DEFLATE_RATIO = 1032;

interface CdEntry {
  crc: number;
  csize: number;
  usize: number;
  method: number;
}

/**
 * Parse an NPZ archive (numpy.savez / savez_compressed: ZIP of NPY entries, stored or deflated).
 * Returns the arrays keyed by entry name without ".npy". Each entry's declared size is checked
 * against maxEntryBytes and the deflate ratio bound before it is inflated, and its CRC-32 after.
 * Entries not ending in ".npy", duplicates, encryption and multi-disk archives are rejected. Any
 * failure, including fflate's, is a ConfigError.
 *
 * @param options.maxEntryBytes cap on an entry's uncompressed size, default NPZ_MAX_ENTRY_BYTES (2 GiB).
 * @param options.maxHeaderBytes passed to readNpy for each entry (default 1 MiB).
 */
export function readNpz(
  bytes: Uint8Array,
  options: { maxEntryBytes?: number; maxHeaderBytes?: number } = {},
): Map<string, Tensor> {
  const maxEntry = options.maxEntryBytes ?? NPZ_MAX_ENTRY_BYTES;
  if (!Number.isSafeInteger(maxEntry) || maxEntry < 0)
    throw new ConfigError('maxEntryBytes', maxEntry, 'a non-negative integer');
  if (!(bytes instanceof Uint8Array))
    throw new ConfigError('npz', Object.prototype.toString.call(bytes), 'a Uint8Array');
  const cd = readCentralDirectory(bytes);

  const names: string[] = [];
  const seen = new Set<string>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (info) => {
        const w = cd[names.length];
        const field = `npz[${JSON.stringify(info.name)}]`;
        if (!w || info.size !== w.csize || info.originalSize !== w.usize || info.compression !== w.method) {
          throw new ConfigError(
            field,
            `entry ${names.length} as fflate reads it`,
            `the ${cd.length} entries of the central directory`,
          );
        }
        if (!info.name.endsWith('.npy'))
          throw new ConfigError(field, info.name, "entry names ending in '.npy', as numpy.savez writes");
        if (seen.has(info.name)) throw new ConfigError(field, info.name, 'entry names that occur once');
        if (info.originalSize > maxEntry) {
          throw new ConfigError(
            `${field}.size`,
            info.originalSize,
            `at most ${maxEntry} bytes uncompressed (maxEntryBytes)`,
          );
        }
        if (info.compression === 0 && info.size !== info.originalSize) {
          throw new ConfigError(
            `${field}.size`,
            `${info.size} stored bytes for ${info.originalSize}`,
            'equal sizes for a stored entry',
          );
        }
        if (info.compression === 8 && info.originalSize > info.size * MAX_DEFLATE_RATIO + 1024) {
          throw new ConfigError(
            `${field}.size`,
            `${info.originalSize} bytes from ${info.size} deflated`,
            `at most ${MAX_DEFLATE_RATIO}× the deflated size`,
          );
        }
        if (info.compression !== 0 && info.compression !== 8) {
          throw new ConfigError(`${field}.compression`, info.compression, '0 (stored) or 8 (deflate)');
        }
        names.push(info.name);
        seen.add(info.name);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('npz', (err as Error).message, 'a readable ZIP archive of .npy entries');
  }
  if (names.length !== cd.length) {
    throw new ConfigError(
      'npz',
      `${names.length} entries read by fflate`,
      `the ${cd.length} entries of the central directory`,
    );
  }

  const out = new Map<string, Tensor>();
  names.forEach((name, k) => {
    const data = files[name];
    const field = `npz[${JSON.stringify(name)}]`;
    if (data.length !== cd[k].usize)
      throw new ConfigError(
        `${field}.size`,
        `${data.length} bytes inflated`,
        `${cd[k].usize} bytes, the declared size`,
      );
    const crc = crc32(data);
    if (crc !== cd[k].crc) throw new ConfigError(`${field}.crc32`, hex(crc), `${hex(cd[k].crc)}, the declared CRC-32`);
    try {
      out.set(name.slice(0, -4), readNpy(data, { maxHeaderBytes: options.maxHeaderBytes }));
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${field}.${err.field}`, err.received, err.accepted);
      throw err;
    }
  });
  return out;
}

/** The central directory, each record and local header bounds-checked against the file. */
function readCentralDirectory(b: Uint8Array): CdEntry[] {
  const bad = (what: string, received: unknown = `${b.length} bytes`): never => {
    throw new ConfigError('npz', received, `a ZIP archive (${what})`);
  };
  if (b.length < 22) bad('at least the 22-byte end-of-central-directory record');
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const u64 = (o: number) => u32(o) + u32(o + 4) * 2 ** 32;

  // The record is in the last 22 + 65535 (comment) bytes; search backwards as fflate does.
  let e = b.length - 22;
  const stop = Math.max(0, b.length - 65559);
  while (e >= stop && u32(e) !== 0x06054b50) e--;
  if (e < stop) bad('no end-of-central-directory record');
  if (u16(e + 4) !== 0 || u16(e + 6) !== 0 || u16(e + 8) !== u16(e + 10))
    bad('a single-disk archive', 'a multi-disk archive');
  let count = u16(e + 10);
  let cdOff = u32(e + 16);
  let limit = e;
  let zip64 = false;
  if (e >= 20 && u32(e - 20) === 0x07064b50) {
    const ze = u64(e - 12);
    if (ze + 56 <= e - 20 && u32(ze) === 0x06064b50) {
      zip64 = true;
      count = u64(ze + 32);
      cdOff = u64(ze + 48);
      limit = ze;
    }
  }
  // Each record is at least 46 bytes: this bounds the loop by the file size.
  if (cdOff > limit || count > (limit - cdOff) / 46)
    bad('a central directory inside the file', `${count} entries at offset ${cdOff}`);

  const out: CdEntry[] = [];
  let o = cdOff;
  for (let k = 0; k < count; k++) {
    if (o + 46 > limit || u32(o) !== 0x02014b50)
      bad(`central directory record ${k} at offset ${o}`, 'a truncated or corrupt central directory');
    const flags = u16(o + 8);
    const method = u16(o + 10);
    const crc = u32(o + 16);
    let csize = u32(o + 20);
    let usize = u32(o + 24);
    const nl = u16(o + 28);
    const xl = u16(o + 30);
    let lho = u32(o + 42);
    const next = o + 46 + nl + xl + u16(o + 32);
    if (next > limit) bad(`central directory record ${k} inside the directory`, 'a truncated central directory');
    if (flags & 1) bad('unencrypted entries', 'an encrypted entry');
    // Like fflate, 0xFFFFFFFF means "see the zip64 extra field" only in a zip64 archive.
    const nu = usize === 0xffffffff,
      nc = csize === 0xffffffff,
      nl64 = lho === 0xffffffff;
    if (zip64 && (nu || nc || nl64)) {
      let p = o + 46 + nl;
      const xe = p + xl;
      while (p + 4 < xe && u16(p) !== 1) p += 4 + u16(p + 2);
      if (!(p + 4 < xe) || p + 4 + 8 * (+nu + +nc + +nl64) > xe)
        bad(`a zip64 extra field in record ${k}`, 'a missing zip64 extra field');
      let q = p + 4;
      if (nu) {
        usize = u64(q);
        q += 8;
      }
      if (nc) {
        csize = u64(q);
        q += 8;
      }
      if (nl64) lho = u64(q);
    }
    if (lho + 30 > b.length || u32(lho) !== 0x04034b50)
      bad(`a local header for entry ${k} at offset ${lho}`, 'a missing local header');
    const dataStart = lho + 30 + u16(lho + 26) + u16(lho + 28);
    if (dataStart + csize > b.length) bad(`entry ${k}'s ${csize} bytes inside the file`, 'a truncated entry');
    out.push({ crc, csize, usize, method });
    o = next;
  }
  return out;
}

let crcTable: Int32Array | undefined;

/** CRC-32 (ISO 3309 / ZIP), table-driven. */
function crc32(d: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < d.length; i++) c = crcTable[(c ^ d[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/**
 * Serialise tensors as an NPZ archive, loadable by numpy.load: one "<name>.npy" entry per tensor
 * (see writeNpy), stored like numpy.savez, or deflated like savez_compressed with `compress`.
 * Timestamps are fixed (1980-01-01) so equal inputs give equal bytes. No zip64: entries and the
 * archive must stay under 4 GiB. Throws ConfigError.
 */
export function writeNpz(
  tensors: Record<string, Tensor> | Map<string, Tensor>,
  options: { compress?: boolean } = {},
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const files: Zippable = {};
  let total = 0;
  for (const [name, t] of list) {
    if (typeof name !== 'string' || name === '') throw new ConfigError('tensors', name, 'non-empty string names');
    let npy: Uint8Array;
    try {
      npy = writeNpy(t);
    } catch (err) {
      if (err instanceof ConfigError)
        throw new ConfigError(`tensors[${JSON.stringify(name)}].${err.field}`, err.received, err.accepted);
      throw err;
    }
    total += npy.length;
    if (total >= 0xffffffff)
      throw new ConfigError(
        `tensors[${JSON.stringify(name)}]`,
        `${total} bytes so far`,
        'an archive under 4 GiB (no zip64)',
      );
    files[`${name}.npy`] = [npy, { level: options.compress ? 6 : 0 }];
  }
  try {
    return zipSync(files, { mtime: new Date(1980, 0, 1) });
  } catch (err) {
    throw new ConfigError('tensors', (err as Error).message, 'names and sizes a ZIP archive can hold');
  }
}
