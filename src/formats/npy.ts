/**
 * NPY, numpy's array file (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * magic "\x93NUMPY", version, header length (u16 for 1.0, u32 for 2.0/3.0), a Python dict literal
 * header, then the raw elements.
 */
import { ConfigError } from '../errors.js';
import {
  DTYPE_SIZE,
  checkTensorForWrite,
  decodeElements,
  encodeElements,
  tensorSize,
  type DType,
  type Tensor,
} from './tensor.js';

/** Default cap on the header: 1 MiB (numpy's own np.load default, max_header_size, is 10 000 bytes). */
export const NPY_MAX_HEADER_BYTES = 1024 * 1024;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR_TO_DTYPE: Record<string, DType> = {
  f8: 'F64',
  f4: 'F32',
  f2: 'F16',
  i8: 'I64',
  i4: 'I32',
  i2: 'I16',
  i1: 'I8',
  u1: 'U8',
  b1: 'BOOL',
};
const DTYPE_TO_DESCR: Partial<Record<DType, string>> = {
  F64: '<f8',
  F32: '<f4',
  F16: '<f2',
  I64: '<i8',
  I32: '<i4',
  I16: '<i2',
  I8: '|i1',
  U8: '|u1',
  BOOL: '|b1',
};
const ACCEPTED_DESCR =
  "'<f8', '<f4', '<f2', '<i8', '<i4', '<i2', '|i1', '|u1', '|b1' (byte order '<', '=' or '>'; '|', '<', '=' or '>' for 1-byte types)";

/**
 * Parse an NPY file (numpy.lib.format versions 1.0, 2.0, 3.0). The header is parsed as a strict
 * subset of Python literals (never evaluated) with exactly the keys descr, fortran_order, shape.
 * Big-endian ('>') data are byte-swapped; '=' is read as little-endian (numpy always writes an
 * explicit order). fortran_order True is transposed into C order. The data must be exactly
 * shape × itemsize bytes. Throws ConfigError on any malformed input.
 *
 * @param options.maxHeaderBytes cap on the declared header length, default NPY_MAX_HEADER_BYTES (1 MiB).
 */
export function readNpy(bytes: Uint8Array, options: { maxHeaderBytes?: number } = {}): Tensor {
  const cap = options.maxHeaderBytes ?? NPY_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(cap) || cap < 0) throw new ConfigError('maxHeaderBytes', cap, 'a non-negative integer');
  if (!(bytes instanceof Uint8Array))
    throw new ConfigError('npy', Object.prototype.toString.call(bytes), 'a Uint8Array');
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ConfigError(
      'npy.magic',
      Array.from(bytes.subarray(0, 6)),
      'the 6 bytes \\x93NUMPY followed by a version and header length',
    );
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    throw new ConfigError('npy.version', `${major}.${minor}`, '1.0, 2.0 or 3.0');
  }
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix)
    throw new ConfigError(
      'npy.header_length',
      `a file of ${bytes.length} bytes`,
      `at least ${prefix} bytes for version ${major}.0`,
    );
  const dv = new DataView(bytes.buffer, bytes.byteOffset, prefix);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (hlen > cap) throw new ConfigError('npy.header_length', hlen, `at most ${cap} bytes (maxHeaderBytes)`);
  if (hlen > bytes.length - prefix) {
    throw new ConfigError(
      'npy.header_length',
      hlen,
      `at most ${bytes.length - prefix}, the bytes after the ${prefix}-byte preamble`,
    );
  }
  const raw = bytes.subarray(prefix, prefix + hlen);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
    } catch {
      throw new ConfigError('npy.header', `${hlen} bytes that are not valid UTF-8`, 'a UTF-8 header (version 3.0)');
    }
  } else {
    text = new TextDecoder('latin1').decode(raw);
  }
  const h = parseHeader(text);

  const m = /^([<>=|])([fiub])(\d)$/.exec(h.descr);
  const dtype = m ? DESCR_TO_DTYPE[m[2] + m[3]] : undefined;
  if (!m || !dtype || (m[1] === '|' && DTYPE_SIZE[dtype] > 1))
    throw new ConfigError('npy.descr', h.descr, ACCEPTED_DESCR);
  const count = tensorSize(h.shape, 'npy.shape');
  const dataStart = prefix + hlen;
  const have = bytes.length - dataStart;
  const want = count * DTYPE_SIZE[dtype];
  if (have !== want) {
    throw new ConfigError(
      'npy.data',
      `${have} bytes`,
      `${want} bytes (shape ${pyShape(h.shape)} × ${DTYPE_SIZE[dtype]} bytes of ${h.descr})`,
    );
  }
  let data = decodeElements(bytes, dataStart, count, dtype, m[1] !== '>', 'npy');
  if (h.fortran) data = fortranToC(data, h.shape);
  return { dtype, shape: h.shape, data };
}

interface Header {
  descr: string;
  fortran: boolean;
  shape: number[];
}

/** A recursive-descent parser for the dict literal numpy writes; anything else is rejected. */
function parseHeader(text: string): Header {
  let i = 0;
  const accepted = "a Python dict literal {'descr': str, 'fortran_order': bool, 'shape': tuple of ints}";
  const fail = (why: string): never => {
    throw new ConfigError(
      'npy.header',
      text.length > 120 ? `${text.slice(0, 120)}…` : text,
      `${accepted} (${why} at character ${i})`,
    );
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const eat = (c: string) => {
    ws();
    if (text[i] !== c) fail(`expected '${c}'`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') fail('expected a string');
    const j = text.indexOf(q, i + 1);
    if (j < 0) fail('unterminated string');
    const s = text.slice(i + 1, j);
    if (/[\\\n]/.test(s)) fail('escapes are not accepted');
    i = j + 1;
    return s;
  };
  const int = (): number => {
    ws();
    const re = /-?[0-9]+[lL]?/y; // 'L': Python 2 longs, still in old files
    re.lastIndex = i;
    const mm = re.exec(text);
    if (!mm) fail('expected an integer');
    i = re.lastIndex;
    return Number.parseInt(mm![0], 10);
  };
  const bool = (): boolean => {
    ws();
    if (text.startsWith('True', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('False', i)) {
      i += 5;
      return false;
    }
    return fail('expected True or False');
  };
  const tuple = (): number[] => {
    eat('(');
    const out: number[] = [];
    ws();
    if (text[i] === ')') {
      i++;
      return out;
    }
    for (;;) {
      out.push(int());
      ws();
      if (text[i] === ')') {
        if (out.length === 1) fail("a 1-tuple needs a trailing comma, as in '(3,)'");
        i++;
        return out;
      }
      eat(',');
      ws();
      if (text[i] === ')') {
        i++;
        return out;
      }
    }
  };

  const got: Partial<Header> = {};
  const seen = new Set<string>();
  eat('{');
  for (;;) {
    ws();
    if (text[i] === '}') {
      i++;
      break;
    }
    const key = str();
    eat(':');
    if (seen.has(key)) fail(`duplicate key '${key}'`);
    seen.add(key);
    if (key === 'descr') {
      ws();
      if (text[i] === '[') throw new ConfigError('npy.descr', 'a structured dtype', ACCEPTED_DESCR);
      got.descr = str();
    } else if (key === 'fortran_order') {
      got.fortran = bool();
    } else if (key === 'shape') {
      ws();
      if (text[i] !== '(') fail('shape must be a tuple');
      got.shape = tuple();
    } else {
      throw new ConfigError('npy.header', key, "only the keys 'descr', 'fortran_order', 'shape'");
    }
    ws();
    if (text[i] === ',') {
      i++;
      continue;
    }
    eat('}');
    break;
  }
  ws();
  if (i !== text.length) fail('unexpected text after the dict');
  for (const [k, v] of [
    ['descr', got.descr],
    ['fortran_order', got.fortran],
    ['shape', got.shape],
  ] as const) {
    if (v === undefined)
      throw new ConfigError('npy.header', text.trim().slice(0, 120), `${accepted} (missing key '${k}')`);
  }
  return got as Header;
}

function fortranToC<T extends Float32Array | Float64Array | Int32Array>(src: T, shape: number[]): T {
  const nd = shape.length;
  const n = src.length;
  if (nd < 2 || n === 0) return src;
  const out = new (src.constructor as new (n: number) => T)(n);
  const fs = new Array<number>(nd); // Fortran strides: the first index varies fastest
  fs[0] = 1;
  for (let j = 1; j < nd; j++) fs[j] = fs[j - 1] * shape[j - 1];
  const idx = new Array<number>(nd).fill(0);
  let off = 0;
  for (let c = 0; c < n; c++) {
    out[c] = src[off];
    for (let j = nd - 1; j >= 0; j--) {
      idx[j]++;
      off += fs[j];
      if (idx[j] < shape[j]) break;
      off -= fs[j] * shape[j];
      idx[j] = 0;
    }
  }
  return out;
}

function pyShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * Serialise a tensor as NPY (numpy.lib.format 1.0, or 2.0 when the header exceeds 65535 bytes):
 * little-endian, C order, header padded so the data start on a 64-byte boundary as numpy does.
 * BF16 has no NPY descr and is rejected. Throws ConfigError.
 */
export function writeNpy(t: Tensor): Uint8Array {
  checkTensorForWrite(t, 'npy');
  const descr = DTYPE_TO_DESCR[t.dtype];
  if (!descr)
    throw new ConfigError('npy.dtype', t.dtype, `${Object.keys(DTYPE_TO_DESCR).join(', ')} (NPY has no bfloat16)`);
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${pyShape(t.shape)}, }`;
  let prefix = 10;
  let total = prefix + dict.length + 1;
  let hlen = dict.length + 1 + ((64 - (total % 64)) % 64);
  if (hlen > 0xffff) {
    prefix = 12;
    total = prefix + dict.length + 1;
    hlen = dict.length + 1 + ((64 - (total % 64)) % 64);
  }
  const dataBytes = t.data.length * DTYPE_SIZE[t.dtype];
  const out = new Uint8Array(prefix + hlen + dataBytes);
  out.set(MAGIC, 0);
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (prefix === 10) dv.setUint16(8, hlen, true);
  else dv.setUint32(8, hlen, true);
  for (let k = 0; k < dict.length; k++) out[prefix + k] = dict.charCodeAt(k); // ASCII
  out.fill(0x20, prefix + dict.length, prefix + hlen - 1);
  out[prefix + hlen - 1] = 0x0a;
  encodeElements(t, out, prefix + hlen);
  return out;
}
