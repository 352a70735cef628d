/**
 * The tensor type shared by the safetensors, NPY and NPZ readers/writers, and the element codecs
 * they share. Pure: bytes in, typed arrays out.
 */
import { ConfigError } from '../errors.js';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/**
 * A decoded tensor, C (row-major) order. F16, BF16, F32 decode to Float32Array (exactly); F64 to
 * Float64Array; the integer types and BOOL to Int32Array (I64 only when every value fits).
 */
export interface Tensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

/** The element types these readers accept, named as in safetensors' header (its `dtype` field). */
export const DTYPES: readonly DType[] = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'];

/** Bytes per element on disk (safetensors dtype sizes; the NPY itemsize of the matching descr). */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Whether v is one of DTYPES (the safetensors dtype names). */
export function isDType(v: unknown): v is DType {
  return typeof v === 'string' && (DTYPES as readonly string[]).includes(v);
}

/**
 * Number of elements of `shape` (1 for the scalar shape [], as in numpy and safetensors). Rejects dims that are not non-negative
 * safe integers and products beyond Number.MAX_SAFE_INTEGER, so callers can compare the result with a
 * byte count without overflow. `field` names the shape in the error.
 */
export function tensorSize(shape: readonly number[], field = 'shape'): number {
  if (!Array.isArray(shape)) throw new ConfigError(field, shape, 'an array of non-negative integers');
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new ConfigError(field, shape, 'an array of non-negative integers');
    }
  }
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER)
      throw new ConfigError(field, shape, `a shape with at most ${Number.MAX_SAFE_INTEGER} elements`);
  }
  return n;
}

/** IEEE 754-2008 binary16 bits → the number (exact; subnormals, ±inf and NaN included). */
export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** bfloat16 bits → number: bfloat16 is the upper 16 bits of a float32. */
export function bfloat16ToFloat32(b: number): number {
  scratchU32[0] = (b & 0xffff) << 16;
  return scratchF32[0];
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** number → binary16 bits, via float32, rounding to nearest even; overflow gives ±inf, NaN a quiet NaN. */
export function float32ToFloat16(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    return sign | roundShift(mant | 0x800000, 14 - e);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  return sign | ((e << 10) + roundShift(mant, 13));
}

/** m >> shift, rounded to nearest even. */
function roundShift(m: number, shift: number): number {
  const q = m >>> shift;
  const r = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return r > half || (r === half && q & 1) ? q + 1 : q;
}

/** number → bfloat16 bits, via float32, rounding to nearest even; NaN stays a quiet NaN. */
export function float32ToBfloat16(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0];
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let f16Table: Float32Array | undefined;

/**
 * Decode `count` elements of `dtype` starting at `bytes[offset]`, IEEE 754 / two's complement in
 * the given byte order (little-endian for safetensors, the descr's order for NPY). The caller has already checked
 * that `count × size` bytes are there, so the only allocation is the output array. `name` labels the
 * tensor in the I64 overflow error.
 */
export function decodeElements(
  bytes: Uint8Array,
  offset: number,
  count: number,
  dtype: DType,
  littleEndian: boolean,
  name: string,
): Float32Array | Float64Array | Int32Array {
  const size = DTYPE_SIZE[dtype];
  const end = offset + count * size;
  if (end > bytes.length)
    throw new ConfigError(`${name}.data`, `${bytes.length - offset} bytes`, `${count * size} bytes`);
  // Fast path: a copy is always aligned, whatever the input's alignment. (Uint8Array's slice, not
  // the input's own: a Node Buffer's slice is a view into a shared pool, not a copy.)
  if (littleEndian === LITTLE_ENDIAN_HOST) {
    const copy = () => Uint8Array.prototype.slice.call(bytes, offset, end).buffer;
    if (dtype === 'F32') return new Float32Array(copy());
    if (dtype === 'F64') return new Float64Array(copy());
    if (dtype === 'I32') return new Int32Array(copy());
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, count * size);
  const le = littleEndian;
  switch (dtype) {
    case 'F64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, le);
      return out;
    }
    case 'F32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, le);
      return out;
    }
    case 'F16': {
      if (!f16Table) {
        f16Table = new Float32Array(65536);
        for (let h = 0; h < 65536; h++) f16Table[h] = float16ToFloat32(h);
      }
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = f16Table[dv.getUint16(i * 2, le)];
      return out;
    }
    case 'BF16': {
      // Write the bits, not the number, so NaN payloads survive.
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = dv.getUint16(i * 2, le) << 16;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const lo = dv.getInt32(i * 8 + (le ? 0 : 4), le);
        const hi = dv.getInt32(i * 8 + (le ? 4 : 0), le);
        if (hi !== (lo < 0 ? -1 : 0)) {
          throw new ConfigError(
            name,
            `I64 value ${dv.getBigInt64(i * 8, le)} at index ${i}`,
            'I64 values within int32 range (they decode to Int32Array)',
          );
        }
        out[i] = lo;
      }
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(i * 4, le);
      return out;
    }
    case 'I16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, le);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(i);
      return out;
    }
    case 'U8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getUint8(i);
      return out;
    }
    case 'BOOL': {
      // Any non-zero byte is true, as numpy and torch read it.
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getUint8(i) ? 1 : 0;
      return out;
    }
  }
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  I32: [-(2 ** 31), 2 ** 31 - 1],
  I16: [-32768, 32767],
  I8: [-128, 127],
  U8: [0, 255],
  BOOL: [0, 1],
};

/**
 * Check a tensor for writing (known dtype, valid shape, a typed array of exactly the shape's size,
 * integer dtypes given integers in range) and return its element count. `name` labels errors.
 */
export function checkTensorForWrite(t: Tensor, name: string): number {
  if (t === null || typeof t !== 'object') throw new ConfigError(name, t, 'a tensor { dtype, shape, data }');
  if (!isDType(t.dtype)) throw new ConfigError(`${name}.dtype`, t.dtype, DTYPES.join(', '));
  const n = tensorSize(t.shape, `${name}.shape`);
  const d = t.data;
  if (!(d instanceof Float32Array || d instanceof Float64Array || d instanceof Int32Array)) {
    throw new ConfigError(
      `${name}.data`,
      Object.prototype.toString.call(d),
      'a Float32Array, Float64Array or Int32Array',
    );
  }
  if (d.length !== n)
    throw new ConfigError(
      `${name}.data`,
      `${d.length} elements`,
      `${n} elements (the product of shape ${JSON.stringify(t.shape)})`,
    );
  const range = INT_RANGE[t.dtype];
  const alwaysFits = d instanceof Int32Array && (t.dtype === 'I32' || t.dtype === 'I64');
  if (range && !alwaysFits) {
    for (let i = 0; i < n; i++) {
      const v = d[i];
      if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
        throw new ConfigError(`${name}.data[${i}]`, v, `an integer from ${range[0]} to ${range[1]} for ${t.dtype}`);
      }
    }
  }
  return n;
}

/**
 * Encode a checked tensor's elements into `out` at `offset`: little-endian IEEE 754 / two's
 * complement, as safetensors requires and as our NPY writer declares ('<').
 */
export function encodeElements(t: Tensor, out: Uint8Array, offset: number): void {
  const d = t.data;
  const n = d.length;
  const dv = new DataView(out.buffer, out.byteOffset + offset, n * DTYPE_SIZE[t.dtype]);
  switch (t.dtype) {
    case 'F64':
      for (let i = 0; i < n; i++) dv.setFloat64(i * 8, d[i], true);
      break;
    case 'F32':
      for (let i = 0; i < n; i++) dv.setFloat32(i * 4, d[i], true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) dv.setUint16(i * 2, float32ToFloat16(d[i]), true);
      break;
    case 'BF16':
      for (let i = 0; i < n; i++) dv.setUint16(i * 2, float32ToBfloat16(d[i]), true);
      break;
    case 'I64':
      for (let i = 0; i < n; i++) dv.setBigInt64(i * 8, BigInt(d[i]), true);
      break;
    case 'I32':
      for (let i = 0; i < n; i++) dv.setInt32(i * 4, d[i], true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) dv.setInt16(i * 2, d[i], true);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) dv.setInt8(i, d[i]);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) dv.setUint8(i, d[i]);
      break;
  }
}
