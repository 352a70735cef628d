/**
 * safetensors (https://github.com/huggingface/safetensors, "Format" in its README): an 8-byte
 * little-endian u64 header length N, N bytes of UTF-8 JSON, then the byte buffer the JSON indexes.
 */
import { ConfigError } from '../errors.js';
import {
  DTYPES,
  DTYPE_SIZE,
  checkTensorForWrite,
  decodeElements,
  encodeElements,
  isDType,
  tensorSize,
  type DType,
  type Tensor,
} from './tensor.js';

/** Default cap on the JSON header: 100 MiB (the reference implementation caps at 100 MB). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parse a safetensors file (huggingface/safetensors format). Strict like the reference
 * implementation: offsets must tile the byte buffer exactly (no overlaps, holes or trailing bytes,
 * which the spec forbids to rule out polyglot files). Every size is checked against the file length
 * before anything of that size is allocated. Tensors come back in data-offset order (the writer's
 * order), not JSON key order. Throws ConfigError on any malformed input.
 *
 * @param options.maxHeaderBytes cap on N, default SAFETENSORS_MAX_HEADER_BYTES (100 MiB).
 */
export function readSafetensors(
  bytes: Uint8Array,
  options: { maxHeaderBytes?: number } = {},
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const cap = options.maxHeaderBytes ?? SAFETENSORS_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(cap) || cap < 0) throw new ConfigError('maxHeaderBytes', cap, 'a non-negative integer');
  if (!(bytes instanceof Uint8Array))
    throw new ConfigError('safetensors', Object.prototype.toString.call(bytes), 'a Uint8Array');
  if (bytes.length < 8) {
    throw new ConfigError(
      'safetensors.header_length',
      `a file of ${bytes.length} bytes`,
      'a file of at least 8 bytes (the u64 header length)',
    );
  }
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(cap))
    throw new ConfigError('safetensors.header_length', n64, `at most ${cap} bytes (maxHeaderBytes)`);
  if (n64 > BigInt(bytes.length - 8)) {
    throw new ConfigError(
      'safetensors.header_length',
      n64,
      `at most ${bytes.length - 8}, the bytes after the 8-byte length`,
    );
  }
  const n = Number(n64);
  const header = parseHeaderJson(bytes.subarray(8, 8 + n));
  const bufStart = 8 + n;
  const bufLen = bytes.length - bufStart;

  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    // The reference reads "__metadata__": null as no metadata.
    if (name === '__metadata__') metadata = info === null ? {} : checkMetadata(info, 'safetensors.__metadata__');
    else entries.push(checkEntry(name, info, bufLen));
  }

  // Walking the ranges in order finds overlaps, holes and trailing bytes in one pass.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: Entry | undefined;
  for (const e of entries) {
    if (e.begin < cursor) {
      throw new ConfigError(
        `safetensors[${JSON.stringify(e.name)}].data_offsets`,
        [e.begin, e.end],
        `a byte range that does not overlap ${JSON.stringify(prev!.name)} [${prev!.begin}, ${prev!.end}]`,
      );
    }
    if (e.begin > cursor) {
      throw new ConfigError(
        `safetensors[${JSON.stringify(e.name)}].data_offsets`,
        [e.begin, e.end],
        `a range starting at ${cursor}: the buffer must be covered without holes`,
      );
    }
    cursor = e.end;
    prev = e;
  }
  if (cursor !== bufLen) {
    throw new ConfigError(
      'safetensors.buffer',
      `${bufLen} bytes after the header`,
      `${cursor} bytes, the end of the last tensor (no trailing bytes)`,
    );
  }

  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const data = decodeElements(
      bytes,
      bufStart + e.begin,
      (e.end - e.begin) / DTYPE_SIZE[e.dtype],
      e.dtype,
      true,
      `safetensors[${JSON.stringify(e.name)}]`,
    );
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/**
 * The header of a safetensors file from its first bytes (the file may be longer, or still being
 * written): the header length N, the metadata, and the data length the header declares (the
 * largest data_offsets end). Null when fewer than 8 + N bytes are given or N is over the cap; a
 * malformed header is a ConfigError, as for `readSafetensors`.
 */
export function safetensorsHeader(
  head: Uint8Array,
  maxHeaderBytes = SAFETENSORS_MAX_HEADER_BYTES,
): { headerLength: number; metadata: Record<string, string>; dataLength: number } | null {
  if (head.length < 8) return null;
  const n64 = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(maxHeaderBytes) || n64 > BigInt(head.length - 8)) return null;
  const n = Number(n64);
  const header = parseHeaderJson(head.subarray(8, 8 + n));
  let dataLength = 0;
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info === null ? {} : checkMetadata(info, 'safetensors.__metadata__');
      continue;
    }
    const end = (info as { data_offsets?: unknown[] } | null)?.data_offsets?.[1];
    if (typeof end === 'number' && Number.isSafeInteger(end)) dataLength = Math.max(dataLength, end);
  }
  return { headerLength: n, metadata, dataLength };
}

function parseHeaderJson(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ConfigError('safetensors.header', `${raw.length} bytes that are not valid UTF-8`, 'UTF-8 JSON');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('safetensors.header', text.slice(0, 40), `valid JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('safetensors.header', text.slice(0, 40), 'a JSON object');
  }
  return value as Record<string, unknown>;
}

function checkMetadata(v: unknown, field: string): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ConfigError(field, v, 'an object of string values');
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') throw new ConfigError(`${field}[${JSON.stringify(k)}]`, s, 'a string');
  }
  return Object.fromEntries(Object.entries(v)) as Record<string, string>;
}

function checkEntry(name: string, info: unknown, bufLen: number): Entry {
  const f = `safetensors[${JSON.stringify(name)}]`;
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    throw new ConfigError(f, info, 'an object { dtype, shape, data_offsets }');
  }
  const { dtype, shape, data_offsets: offs } = info as Record<string, unknown>;
  if (dtype === undefined) throw new ConfigError(`${f}.dtype`, dtype, DTYPES.join(', '));
  if (!isDType(dtype)) throw new ConfigError(`${f}.dtype`, dtype, DTYPES.join(', '));
  if (!Array.isArray(shape)) throw new ConfigError(`${f}.shape`, shape, 'an array of non-negative integers');
  const count = tensorSize(shape as number[], `${f}.shape`);
  if (
    !Array.isArray(offs) ||
    offs.length !== 2 ||
    !offs.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offs[0] > offs[1]
  ) {
    throw new ConfigError(`${f}.data_offsets`, offs, '[begin, end], non-negative integers with begin <= end');
  }
  const [begin, end] = offs as [number, number];
  if (end > bufLen) throw new ConfigError(`${f}.data_offsets`, offs, `an end within the ${bufLen}-byte buffer`);
  const want = count * DTYPE_SIZE[dtype];
  if (end - begin !== want) {
    throw new ConfigError(
      `${f}.data_offsets`,
      offs,
      `a range of ${want} bytes (shape ${JSON.stringify(shape)} × ${DTYPE_SIZE[dtype]} bytes of ${dtype})`,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/**
 * Serialise tensors in the safetensors format (huggingface/safetensors): tensors laid out
 * contiguously in the order given, the header padded with spaces to a multiple of 8 bytes as the
 * reference writer does. Data are encoded to each tensor's dtype (F16/BF16 rounded to nearest even
 * from float32); integer dtypes require integer values in range. Throws ConfigError.
 */
export function writeSafetensors(
  tensors: Record<string, Tensor> | Map<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(checkMetadata(metadata, 'metadata'))}`);
  let offset = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new ConfigError('tensors', name, "tensor names other than '__metadata__'");
    const count = checkTensorForWrite(t, `tensors[${JSON.stringify(name)}]`);
    const end = offset + count * DTYPE_SIZE[t.dtype];
    parts.push(
      `${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] })}`,
    );
    offset = end;
  }
  const json = utf8Encoder.encode(`{${parts.join(',')}}`);
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const [, t] of list) {
    encodeElements(t, out, at);
    at += t.data.length * DTYPE_SIZE[t.dtype];
  }
  return out;
}
