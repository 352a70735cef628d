/**
 * The tensor-file readers and writers (src/formats): codecs, round trips, files written by numpy
 * and safetensors (test/fixtures/formats, made by make_fixtures.py), one test per rejection, and
 * fuzzing: whatever the bytes, the only exception is ConfigError and nothing hangs or over-allocates.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { ConfigError } from '../src/errors.js';
import {
  DTYPES,
  bfloat16ToFloat32,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  tensorSize,
  type DType,
  type Tensor,
} from '../src/formats/tensor.js';
import { SAFETENSORS_MAX_HEADER_BYTES, readSafetensors, writeSafetensors } from '../src/formats/safetensors.js';
import { NPY_MAX_HEADER_BYTES, readNpy, writeNpy } from '../src/formats/npy.js';
import { NPZ_MAX_ENTRY_BYTES, readNpz, writeNpz } from '../src/formats/npz.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'formats');
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
const enc = (s: string) => new TextEncoder().encode(s);

/** Run fn, require a ConfigError whose message contains `piece`, and return it. */
function rejects(fn: () => unknown, ...pieces: (string | RegExp)[]): ConfigError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a ConfigError').toBeInstanceOf(ConfigError);
  for (const p of pieces) expect((err as ConfigError).message).toMatch(p);
  return err as ConfigError;
}

/** Element-wise equality that tells -0 from 0 and accepts NaN for NaN (or the fixture string "nan"). */
function expectValues(actual: ArrayLike<number>, expected: ArrayLike<number | string>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const want = e === 'nan' ? NaN : e === 'inf' ? Infinity : e === '-inf' ? -Infinity : (e as number);
    if (Number.isNaN(want)) expect(Number.isNaN(actual[i]), `index ${i}`).toBe(true);
    else if (!Object.is(actual[i], want)) expect(actual[i], `index ${i}`).toBe(want);
  }
}

function expectSameTensor(a: Tensor, b: Tensor): void {
  expect(a.dtype).toBe(b.dtype);
  expect(a.shape).toEqual(b.shape);
  expect(a.data.constructor).toBe(arrayFor(b.dtype));
  expectValues(a.data, b.data);
}

function arrayFor(dtype: DType) {
  return dtype === 'F64'
    ? Float64Array
    : dtype === 'F32' || dtype === 'F16' || dtype === 'BF16'
      ? Float32Array
      : Int32Array;
}

function decodedBytes(ts: Iterable<Tensor>): number {
  let n = 0;
  for (const t of ts) n += t.data.byteLength;
  return n;
}

/** One tensor per dtype, with that dtype's edge values (all exactly representable). */
const SAMPLES: Record<DType, Tensor> = {
  F64: {
    dtype: 'F64',
    shape: [2, 3],
    data: new Float64Array([1.5, -0, Math.PI, Number.MAX_VALUE, Number.MIN_VALUE, NaN]),
  },
  F32: { dtype: 'F32', shape: [3, 2], data: new Float32Array([1.5, -0, Math.PI, 3.4e38, 1e-45, -Infinity]) },
  F16: { dtype: 'F16', shape: [2, 4], data: new Float32Array([1, -2, 65504, 2 ** -24, Infinity, -Infinity, NaN, -0]) },
  BF16: { dtype: 'BF16', shape: [4], data: new Float32Array([1, -2, 3.140625, 2 ** -133]) },
  I64: { dtype: 'I64', shape: [4], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -1]) },
  I32: { dtype: 'I32', shape: [2, 2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -1]) },
  I16: { dtype: 'I16', shape: [3], data: new Int32Array([-32768, 32767, -1]) },
  I8: { dtype: 'I8', shape: [1, 3], data: new Int32Array([-128, 127, -1]) },
  U8: { dtype: 'U8', shape: [3], data: new Int32Array([0, 255, 128]) },
  BOOL: { dtype: 'BOOL', shape: [2, 2], data: new Int32Array([1, 0, 0, 1]) },
};
const NPY_DTYPES = DTYPES.filter((d) => d !== 'BF16');

describe('element codecs', () => {
  it('float16 decodes known bit patterns', () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0xc000)).toBe(-2);
    expect(float16ToFloat32(0x7bff)).toBe(65504);
    expect(float16ToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16ToFloat32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(float16ToFloat32(0x0400)).toBe(2 ** -14);
    expect(float16ToFloat32(0x3555)).toBe(0.333251953125);
    expect(float16ToFloat32(0x7c00)).toBe(Infinity);
    expect(float16ToFloat32(0xfc00)).toBe(-Infinity);
    expect(float16ToFloat32(0x7e00)).toBeNaN();
    expect(float16ToFloat32(0x7c01)).toBeNaN();
    expect(Object.is(float16ToFloat32(0x8000), -0)).toBe(true);
  });

  it('float16 encoding inverts decoding on all 65536 patterns (NaNs stay NaN)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = float16ToFloat32(h);
      if (Number.isNaN(x)) expect(Number.isNaN(float16ToFloat32(float32ToFloat16(x)))).toBe(true);
      else if (float32ToFloat16(x) !== h) expect(float32ToFloat16(x).toString(16)).toBe(h.toString(16));
    }
  });

  it('float16 encoding rounds to nearest even and overflows to infinity', () => {
    expect(float32ToFloat16(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(float32ToFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(float32ToFloat16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    expect(float32ToFloat16(65519)).toBe(0x7bff);
    expect(float32ToFloat16(65520)).toBe(0x7c00);
    expect(float32ToFloat16(-1e6)).toBe(0xfc00);
    expect(float32ToFloat16(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal
    expect(float32ToFloat16(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(float32ToFloat16(3 * 2 ** -25)).toBe(0x0002);
    expect(float32ToFloat16(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the normals
    expect(float32ToFloat16(-0)).toBe(0x8000);
  });

  it('bfloat16 is the upper half of float32: 1.0 = 0x3F80, rounding to nearest even', () => {
    expect(float32ToBfloat16(1)).toBe(0x3f80);
    expect(bfloat16ToFloat32(0x3f80)).toBe(1);
    expect(float32ToBfloat16(-2)).toBe(0xc000);
    expect(bfloat16ToFloat32(0xc000)).toBe(-2);
    expect(bfloat16ToFloat32(0x7f80)).toBe(Infinity);
    expect(bfloat16ToFloat32(0x7fc0)).toBeNaN();
    expect(bfloat16ToFloat32(0x0001)).toBe(2 ** -133);
    expect(float32ToBfloat16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(float32ToBfloat16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(float32ToBfloat16(3.4e38)).toBe(0x7f80); // rounds past the largest bfloat16
    expect(bfloat16ToFloat32(float32ToBfloat16(NaN))).toBeNaN();
    for (let b = 0; b < 0x10000; b++) {
      const x = bfloat16ToFloat32(b);
      if (!Number.isNaN(x) && float32ToBfloat16(x) !== b) expect(float32ToBfloat16(x)).toBe(b);
    }
  });

  it('tensorSize multiplies dims and rejects bad or overflowing shapes', () => {
    expect(tensorSize([])).toBe(1);
    expect(tensorSize([2, 3, 4])).toBe(24);
    expect(tensorSize([0, 2 ** 52, 2 ** 52])).toBe(0);
    rejects(() => tensorSize([-1]), 'shape');
    rejects(() => tensorSize([1.5]), 'shape');
    rejects(() => tensorSize([2 ** 30, 2 ** 30, 2 ** 30], 'w.shape'), 'w.shape', 'at most');
  });
});

describe('round trips: write → read gives the same shape and values', () => {
  for (const dtype of DTYPES) {
    it(`safetensors ${dtype}`, () => {
      const { tensors } = readSafetensors(writeSafetensors({ t: SAMPLES[dtype] }));
      expectSameTensor(tensors.get('t')!, SAMPLES[dtype]);
    });
  }
  for (const dtype of NPY_DTYPES) {
    it(`npy ${dtype}`, () => expectSameTensor(readNpy(writeNpy(SAMPLES[dtype])), SAMPLES[dtype]));
  }
  it('reads from a Node Buffer inside a shared pool (its slice is a view, not a copy)', () => {
    for (const dtype of ['F32', 'F64', 'I32'] as const) {
      const file = writeSafetensors({ t: SAMPLES[dtype] });
      // Small Buffers share one pool ArrayBuffer: this one starts at a non-zero byteOffset.
      const pooled = Buffer.concat([Buffer.from('junk-junk'), Buffer.from(file)]).subarray(9);
      expect(pooled.byteOffset).toBeGreaterThan(0);
      expectSameTensor(readSafetensors(pooled).tensors.get('t')!, SAMPLES[dtype]);
      expectSameTensor(
        readNpy(Buffer.concat([Buffer.from('x'), Buffer.from(writeNpy(SAMPLES[dtype]))]).subarray(1)),
        SAMPLES[dtype],
      );
    }
  });
  it('npz, stored and deflated, every NPY dtype in one archive', () => {
    const all = Object.fromEntries(NPY_DTYPES.map((d) => [`x_${d}`, SAMPLES[d]]));
    for (const compress of [false, true]) {
      const back = readNpz(writeNpz(all, { compress }));
      expect([...back.keys()]).toEqual(Object.keys(all));
      for (const [k, t] of Object.entries(all)) expectSameTensor(back.get(k)!, t);
    }
  });

  it('scalars and empty tensors', () => {
    const scalar: Tensor = { dtype: 'F64', shape: [], data: new Float64Array([2.5]) };
    const empty: Tensor = { dtype: 'I16', shape: [0, 4], data: new Int32Array(0) };
    const st = readSafetensors(writeSafetensors({ scalar, empty })).tensors;
    expectSameTensor(st.get('scalar')!, scalar);
    expectSameTensor(st.get('empty')!, empty);
    expectSameTensor(readNpy(writeNpy(scalar)), scalar);
    expectSameTensor(readNpy(writeNpy(empty)), empty);
    const z = readNpz(writeNpz({ scalar, empty }));
    expectSameTensor(z.get('scalar')!, scalar);
    expectSameTensor(z.get('empty')!, empty);
    expect(readNpz(writeNpz({})).size).toBe(0);
  });

  it('safetensors keeps the given order (even for integer-like names), metadata and 8-byte header padding', () => {
    const order = ['b', '10', 'a', '2'];
    const m = new Map(
      order.map((k, i) => [k, { dtype: 'F32' as const, shape: [i + 1], data: new Float32Array(i + 1).fill(i) }]),
    );
    const bytes = writeSafetensors(m, JSON.parse('{"who": "test", "__proto__": "x"}'));
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect([...back.tensors.keys()]).toEqual(order);
    expect(Object.entries(back.metadata)).toEqual([
      ['who', 'test'],
      ['__proto__', 'x'],
    ]);
    expect(Object.getPrototypeOf(back.metadata)).toBe(Object.prototype);
  });

  it('npy data start on a 64-byte boundary, as numpy writes them', () => {
    const b = writeNpy(SAMPLES.F32);
    expect((10 + new DataView(b.buffer).getUint16(8, true)) % 64).toBe(0);
    expect(b[10 + new DataView(b.buffer).getUint16(8, true) - 1]).toBe(0x0a);
  });

  it('npz output is deterministic', () => {
    expect(writeNpz({ a: SAMPLES.F64 })).toEqual(writeNpz({ a: SAMPLES.F64 }));
  });

  it('writers encode from any of the three array types, rounding to the dtype', () => {
    const t = readSafetensors(
      writeSafetensors({
        i: { dtype: 'I64', shape: [2], data: new Float64Array([-3, 2 ** 31 - 1]) },
        f: { dtype: 'F32', shape: [1], data: new Float64Array([0.1]) },
        h: { dtype: 'F16', shape: [1], data: new Int32Array([2049]) },
      }),
    ).tensors;
    expectValues(t.get('i')!.data, [-3, 2 ** 31 - 1]);
    expectValues(t.get('f')!.data, [Math.fround(0.1)]);
    expectValues(t.get('h')!.data, [2048]); // 2049 is a tie between 2048 and 2050 in float16
  });

  it('random tensors of every dtype survive all three formats (property)', () => {
    const values: Record<DType, fc.Arbitrary<number>> = {
      F64: fc.double(),
      F32: fc.float(),
      F16: fc.integer({ min: 0, max: 0xffff }).map(float16ToFloat32),
      BF16: fc.integer({ min: 0, max: 0xffff }).map(bfloat16ToFloat32),
      I64: fc.integer(),
      I32: fc.integer(),
      I16: fc.integer({ min: -32768, max: 32767 }),
      I8: fc.integer({ min: -128, max: 127 }),
      U8: fc.integer({ min: 0, max: 255 }),
      BOOL: fc.integer({ min: 0, max: 1 }),
    };
    const tensor = fc
      .constantFrom(...DTYPES)
      .chain((dtype) =>
        fc
          .array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
          .chain((shape) =>
            fc
              .array(values[dtype], { minLength: tensorSize(shape), maxLength: tensorSize(shape) })
              .map((v): Tensor => ({ dtype, shape, data: new (arrayFor(dtype))(v) })),
          ),
      );
    fc.assert(
      fc.property(fc.array(tensor, { maxLength: 4 }), (ts) => {
        const named = Object.fromEntries(ts.map((t, i) => [`t${i}`, t]));
        const st = readSafetensors(writeSafetensors(named)).tensors;
        ts.forEach((t, i) => {
          expectSameTensor(st.get(`t${i}`)!, t);
        });
        const npyOnes = ts.filter((t) => t.dtype !== 'BF16');
        for (const t of npyOnes) expectSameTensor(readNpy(writeNpy(t)), t);
        const z = readNpz(
          writeNpz(Object.fromEntries(npyOnes.map((t, i) => [`t${i}`, t])), { compress: ts.length % 2 === 0 }),
        );
        npyOnes.forEach((t, i) => {
          expectSameTensor(z.get(`t${i}`)!, t);
        });
      }),
      { numRuns: 150 },
    );
  });
});

describe('writer rejections', () => {
  it('data length must match the shape', () => {
    rejects(
      () => writeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }),
      'tensors["w"].data',
      '4 elements',
    );
  });
  it('unknown dtype', () => {
    rejects(() => writeNpy({ dtype: 'U16' as DType, shape: [1], data: new Int32Array(1) }), 'npy.dtype', 'BF16');
  });
  it('integer dtypes need integers in range', () => {
    rejects(
      () => writeSafetensors({ b: { dtype: 'I8', shape: [1], data: new Int32Array([200]) } }),
      'tensors["b"].data[0]',
      '-128 to 127',
    );
    rejects(() => writeNpy({ dtype: 'I32', shape: [1], data: new Float32Array([1.5]) }), 'npy.data[0]');
    rejects(() => writeNpy({ dtype: 'BOOL', shape: [1], data: new Int32Array([2]) }), 'npy.data[0]');
  });
  it('NPY has no bfloat16', () => {
    rejects(() => writeNpy(SAMPLES.BF16), 'npy.dtype', 'bfloat16');
    rejects(() => writeNpz({ w: SAMPLES.BF16 }), 'tensors["w"].npy.dtype');
  });
  it("a tensor named '__metadata__', and non-string metadata", () => {
    rejects(() => writeSafetensors({ __metadata__: SAMPLES.F32 }), 'tensors', '__metadata__');
    rejects(() => writeSafetensors({}, { n: 3 as unknown as string }), 'metadata["n"]', 'a string');
  });
});

describe('files written by numpy and safetensors', () => {
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
    string,
    Record<string, { dtype: DType; shape: number[]; values: (number | string)[] } | Record<string, string>>
  >;
  const check = (got: Tensor, want: { dtype: DType; shape: number[]; values: (number | string)[] }) => {
    expect(got.dtype).toBe(want.dtype);
    expect(got.shape).toEqual(want.shape);
    expect(got.data.constructor).toBe(arrayFor(want.dtype));
    expectValues(got.data, want.values);
  };
  for (const [file, arrays] of Object.entries(expected)) {
    if (file.startsWith('_')) continue;
    it(file, () => {
      const bytes = fixture(file);
      if ('_error' in arrays) {
        rejects(() => readSafetensors(bytes), arrays._error as unknown as string, 'int32');
        return;
      }
      const entries = Object.entries(arrays).filter(([k]) => k !== '__metadata__') as [
        string,
        { dtype: DType; shape: number[]; values: (number | string)[] },
      ][];
      if (file.endsWith('.safetensors')) {
        const { tensors, metadata } = readSafetensors(bytes);
        expect([...tensors.keys()].sort()).toEqual(entries.map(([k]) => k).sort());
        for (const [k, want] of entries) check(tensors.get(k)!, want);
        expect(metadata).toEqual(arrays.__metadata__ ?? {});
      } else if (file.endsWith('.npz')) {
        const tensors = readNpz(bytes);
        expect([...tensors.keys()].sort()).toEqual(entries.map(([k]) => k).sort());
        for (const [k, want] of entries) check(tensors.get(k)!, want);
      } else {
        check(readNpy(bytes), entries[0][1]);
      }
    });
  }

  it('fixtures are small', () => {
    for (const f of Object.keys(expected)) if (!f.startsWith('_')) expect(fixture(f).length).toBeLessThan(10_000);
  });
});

const hasPython = spawnSync('python3', ['-c', 'import numpy, safetensors'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasPython)('numpy and safetensors read what we write (python3)', () => {
  it('every dtype, through numpy.load and safetensors.numpy.load_file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geomstream-formats-'));
    try {
      const { BF16, ...noBf16 } = SAMPLES; // numpy has no bfloat16: check its raw bits separately
      writeFileSync(join(dir, 'all.safetensors'), writeSafetensors(noBf16, { k: 'v' }));
      writeFileSync(join(dir, 'bf16.safetensors'), writeSafetensors({ BF16 }));
      const npy = Object.fromEntries(NPY_DTYPES.map((d) => [d, SAMPLES[d]]));
      writeFileSync(join(dir, 'stored.npz'), writeNpz(npy));
      writeFileSync(join(dir, 'deflated.npz'), writeNpz(npy, { compress: true }));
      for (const d of NPY_DTYPES) writeFileSync(join(dir, `${d}.npy`), writeNpy(SAMPLES[d]));
      const script = `
import json, math, sys, numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
d = sys.argv[1]
out = {}
def vals(a): return [v if math.isfinite(v) else repr(v) for v in a.reshape(-1).astype(np.float64).tolist()]
for k, a in load_file(d + '/all.safetensors').items(): out['st.' + k] = [str(a.dtype), list(a.shape), vals(a)] if a.dtype.name != 'uint16' else None
with safe_open(d + '/all.safetensors', 'np') as f: out['meta'] = f.metadata()
from safetensors import deserialize
[(name, info)] = deserialize(open(d + '/bf16.safetensors', 'rb').read())
out['bf16'] = [name, info['dtype'], info['shape'], np.frombuffer(bytes(info['data']), '<u2').tolist()]
for z in ['stored', 'deflated']:
    with np.load(d + '/' + z + '.npz') as f:
        for k in f.files: out[z + '.' + k] = [str(f[k].dtype), list(f[k].shape), vals(f[k])]
for k in ${JSON.stringify(NPY_DTYPES)}:
    a = np.load(d + '/' + k + '.npy'); out['npy.' + k] = [str(a.dtype), list(a.shape), vals(a)]
print(json.dumps(out))
`;
      const res = spawnSync('python3', ['-c', script, dir], { encoding: 'utf8' });
      expect(res.stderr).toBe('');
      const got = JSON.parse(res.stdout) as Record<string, unknown>;
      const npName: Record<string, string> = {
        F64: 'float64',
        F32: 'float32',
        F16: 'float16',
        I64: 'int64',
        I32: 'int32',
        I16: 'int16',
        I8: 'int8',
        U8: 'uint8',
        BOOL: 'bool',
      };
      for (const d of NPY_DTYPES) {
        const want = Array.from(SAMPLES[d].data, (v) =>
          Number.isFinite(v) ? v : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan',
        );
        for (const key of [`st.${d}`, `stored.${d}`, `deflated.${d}`, `npy.${d}`]) {
          expect(got[key], key).toEqual([npName[d], SAMPLES[d].shape, want]);
        }
      }
      expect(got.meta).toEqual({ k: 'v' });
      expect(got.bf16).toEqual(['BF16', 'BF16', SAMPLES.BF16.shape, Array.from(SAMPLES.BF16.data, float32ToBfloat16)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Rejections, one test each.

/** A safetensors file from a header (object, JSON text or raw bytes) and a buffer. */
function stFile(header: unknown, buf: Uint8Array | number = 0): Uint8Array {
  const h = header instanceof Uint8Array ? header : enc(typeof header === 'string' ? header : JSON.stringify(header));
  const b = typeof buf === 'number' ? new Uint8Array(buf) : buf;
  const out = new Uint8Array(8 + h.length + b.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(b, 8 + h.length);
  return out;
}

/** A 4-element F32 entry at [begin, end]. */
const f32 = (begin: number, end = begin + 16, shape = [4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

function quickly(fn: () => void, ms = 200): void {
  const t0 = performance.now();
  fn();
  expect(performance.now() - t0).toBeLessThan(ms);
}

describe('readSafetensors rejects', () => {
  it('a file shorter than 8 bytes', () =>
    rejects(() => readSafetensors(new Uint8Array(7)), 'safetensors.header_length', 'at least 8 bytes'));
  it('a header length beyond the file', () => {
    const f = stFile({ a: f32(0) }, 16);
    new DataView(f.buffer).setBigUint64(0, BigInt(f.length), true);
    rejects(() => readSafetensors(f), 'safetensors.header_length', 'bytes after the 8-byte length');
  });
  it('a header length beyond the cap (maxHeaderBytes)', () => {
    rejects(
      () => readSafetensors(stFile({ a: f32(0) }, 16), { maxHeaderBytes: 16 }),
      'safetensors.header_length',
      'maxHeaderBytes',
    );
    expect(SAFETENSORS_MAX_HEADER_BYTES).toBe(100 * 1024 * 1024);
  });
  it('a declared header of 2^50 or 2^64−1 bytes, quickly and without allocating it', () => {
    for (const n of [2n ** 50n, 2n ** 64n - 1n]) {
      const f = stFile('{}');
      new DataView(f.buffer).setBigUint64(0, n, true);
      quickly(() => rejects(() => readSafetensors(f), 'safetensors.header_length', String(n)));
    }
  });
  it('a header that is not UTF-8', () =>
    rejects(() => readSafetensors(stFile(new Uint8Array([0x7b, 0xff, 0x7d]))), 'safetensors.header', 'UTF-8'));
  it('a header that is not JSON', () =>
    rejects(() => readSafetensors(stFile('{"a": ')), 'safetensors.header', 'valid JSON'));
  it('a header that is not an object', () => {
    rejects(() => readSafetensors(stFile('[1, 2]')), 'safetensors.header', 'JSON object');
    rejects(() => readSafetensors(stFile('"{}"')), 'safetensors.header', 'JSON object');
  });
  it('an entry that is not an object', () =>
    rejects(() => readSafetensors(stFile({ a: 5 })), 'safetensors["a"]', 'dtype, shape, data_offsets'));
  it('an entry missing dtype', () =>
    rejects(() => readSafetensors(stFile({ a: { shape: [4], data_offsets: [0, 16] } }, 16)), 'safetensors["a"].dtype'));
  it('an entry missing shape', () =>
    rejects(
      () => readSafetensors(stFile({ a: { dtype: 'F32', data_offsets: [0, 16] } }, 16)),
      'safetensors["a"].shape',
    ));
  it('an entry missing data_offsets', () =>
    rejects(() => readSafetensors(stFile({ a: { dtype: 'F32', shape: [4] } }, 16)), 'safetensors["a"].data_offsets'));
  it('a dtype that is not a string', () =>
    rejects(() => readSafetensors(stFile({ a: { ...f32(0), dtype: 4 } }, 16)), 'safetensors["a"].dtype', 'received 4'));
  it('an unknown dtype, listing the accepted ones', () => {
    rejects(
      () => readSafetensors(stFile({ a: { ...f32(0), dtype: 'F8_E4M3' } }, 16)),
      'safetensors["a"].dtype',
      'F8_E4M3',
      'F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL',
    );
  });
  it('a shape that is not an array', () =>
    rejects(
      () => readSafetensors(stFile({ a: f32(0, 16, '4' as unknown as number[]) }, 16)),
      'safetensors["a"].shape',
    ));
  it('a negative shape dim', () =>
    rejects(
      () => readSafetensors(stFile({ a: f32(0, 16, [-4]) }, 16)),
      'safetensors["a"].shape',
      'non-negative integers',
    ));
  it('a non-integer shape dim', () =>
    rejects(() => readSafetensors(stFile({ a: f32(0, 16, [2.5]) }, 16)), 'safetensors["a"].shape'));
  it('data_offsets that are not a pair', () =>
    rejects(
      () => readSafetensors(stFile({ a: { ...f32(0), data_offsets: [0] } }, 16)),
      'safetensors["a"].data_offsets',
      '[begin, end]',
    ));
  it('data_offsets that are not integers', () =>
    rejects(
      () => readSafetensors(stFile({ a: { ...f32(0), data_offsets: [0, '16'] } }, 16)),
      'safetensors["a"].data_offsets',
    ));
  it('data_offsets with begin > end', () =>
    rejects(
      () => readSafetensors(stFile({ a: { ...f32(0), data_offsets: [16, 0] } }, 16)),
      'safetensors["a"].data_offsets',
      'begin <= end',
    ));
  it('data_offsets that are negative', () =>
    rejects(
      () => readSafetensors(stFile({ a: { ...f32(0), data_offsets: [-16, 0] } }, 16)),
      'safetensors["a"].data_offsets',
    ));
  it('an end past the buffer', () =>
    rejects(
      () => readSafetensors(stFile({ a: f32(0) }, 12)),
      'safetensors["a"].data_offsets',
      'within the 12-byte buffer',
    ));
  it('a byte range that does not match shape × dtype size', () => {
    rejects(
      () => readSafetensors(stFile({ a: f32(0, 16, [3]) }, 16)),
      'safetensors["a"].data_offsets',
      'a range of 12 bytes',
    );
  });
  it('a huge declared shape ([1e9, 1e9], [1e5, 1e9]) with a small buffer, quickly', () => {
    quickly(() =>
      rejects(() => readSafetensors(stFile({ a: f32(0, 16, [1e9, 1e9]) }, 16)), 'safetensors["a"].shape', 'at most'),
    );
    quickly(() =>
      rejects(
        () => readSafetensors(stFile({ a: f32(0, 16, [1e5, 1e9]) }, 16)),
        'safetensors["a"].data_offsets',
        '400000000000000 bytes',
      ),
    );
  });
  it('two tensors whose byte ranges overlap', () => {
    rejects(
      () => readSafetensors(stFile({ a: f32(0), b: f32(8) }, 24)),
      'safetensors["b"].data_offsets',
      'does not overlap "a"',
    );
  });
  it('a hole between tensors', () =>
    rejects(
      () => readSafetensors(stFile({ a: f32(0), b: f32(20) }, 36)),
      'safetensors["b"].data_offsets',
      'without holes',
    ));
  it('trailing bytes after the last tensor', () =>
    rejects(() => readSafetensors(stFile({ a: f32(0) }, 20)), 'safetensors.buffer', 'no trailing bytes'));
  it('__metadata__ values that are not strings', () => {
    rejects(
      () => readSafetensors(stFile({ __metadata__: { epoch: 3 } })),
      'safetensors.__metadata__["epoch"]',
      'a string',
    );
    rejects(() => readSafetensors(stFile({ __metadata__: ['x'] })), 'safetensors.__metadata__', 'an object');
  });
  it('I64 values outside int32, naming the tensor', () => {
    const f = stFile({ big: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8);
    new DataView(f.buffer).setBigInt64(f.length - 8, -(2n ** 31n) - 1n, true);
    rejects(() => readSafetensors(f), 'safetensors["big"]', '-2147483649', 'int32');
  });
});

describe('readSafetensors accepts', () => {
  it('leading whitespace and "__metadata__": null, as the reference does', () => {
    expect(readSafetensors(stFile(' \n{"__metadata__": null}')).metadata).toEqual({});
  });
  it('reads from an unaligned view', () => {
    const good = writeSafetensors({ a: SAMPLES.F64, b: SAMPLES.F32 });
    const shifted = new Uint8Array(good.length + 3);
    shifted.set(good, 3);
    const t = readSafetensors(shifted.subarray(3)).tensors;
    expectSameTensor(t.get('a')!, SAMPLES.F64);
    expectSameTensor(t.get('b')!, SAMPLES.F32);
  });
});

/** An NPY file from a header (text or bytes) and data. */
function npyFile(header: string | Uint8Array, data: Uint8Array | number = 0, major = 1): Uint8Array {
  const h = typeof header === 'string' ? enc(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const pre = major === 1 ? 10 : 12;
  const out = new Uint8Array(pre + h.length + d.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(d, pre + h.length);
  return out;
}
const hdr = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

describe('readNpy', () => {
  it('accepts what numpy writes and some variants: double quotes, no trailing comma, Python 2 longs, "=" and "<i1"', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    for (const h of [
      hdr('<f4', '(2, 3)'),
      '{"descr":"=f4","fortran_order":False,"shape":(2,3)}',
      "{'shape': (2L, 3L), 'fortran_order': False, 'descr': '<f4'}   \n",
    ]) {
      const t = readNpy(npyFile(h, data));
      expect(t.shape).toEqual([2, 3]);
      expectValues(t.data, [1, 2, 3, 4, 5, 6]);
    }
    expectValues(readNpy(npyFile(hdr('<i1', '(2,)'), new Uint8Array([0xff, 7]))).data, [-1, 7]);
    expectValues(readNpy(npyFile(hdr('|b1', '(2,)'), new Uint8Array([2, 0]))).data, [1, 0]);
  });
  it('transposes Fortran order into C order', () => {
    // Column-major [[0, 1, 2], [3, 4, 5]] is stored 0 3 1 4 2 5.
    const t = readNpy(npyFile(hdr('<i2', '(2, 3)', 'True'), new Uint8Array(new Int16Array([0, 3, 1, 4, 2, 5]).buffer)));
    expectValues(t.data, [0, 1, 2, 3, 4, 5]);
  });
  it('byte-swaps big-endian data', () => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, -1.25, false);
    expectValues(readNpy(npyFile(hdr('>f8', '()'), b)).data, [-1.25]);
  });
  it('reads from an unaligned view', () => {
    const good = writeNpy(SAMPLES.F64);
    const shifted = new Uint8Array(good.length + 1);
    shifted.set(good, 1);
    expectSameTensor(readNpy(shifted.subarray(1)), SAMPLES.F64);
  });
});

describe('readNpy rejects', () => {
  it('a wrong magic', () => rejects(() => readNpy(enc('PK\x03\x04 not an npy file')), 'npy.magic', 'NUMPY'));
  it('a file too short for the preamble', () =>
    rejects(() => readNpy(new Uint8Array([0x93, 0x4e, 0x55])), 'npy.magic'));
  it('an unknown version', () => {
    const f = npyFile(hdr('<f4', '()'), 4);
    f[6] = 4;
    rejects(() => readNpy(f), 'npy.version', '4.0', '1.0, 2.0 or 3.0');
    f[6] = 1;
    f[7] = 1;
    rejects(() => readNpy(f), 'npy.version', '1.1');
  });
  it('a version 2.0 file too short for its 4-byte length', () => {
    rejects(
      () => readNpy(new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 10, 0, 0])),
      'npy.header_length',
      'at least 12',
    );
  });
  it('a header length beyond the file', () => {
    const f = npyFile(hdr('<f4', '()'), 4);
    new DataView(f.buffer).setUint16(8, 60000, true);
    rejects(() => readNpy(f), 'npy.header_length', 'received 60000');
  });
  it('a header length beyond the cap, quickly (a v2 length of 2^32 − 1)', () => {
    rejects(() => readNpy(npyFile(hdr('<f4', '()'), 4), { maxHeaderBytes: 32 }), 'npy.header_length', 'maxHeaderBytes');
    const f = npyFile(hdr('<f4', '()'), 4, 2);
    new DataView(f.buffer).setUint32(8, 0xffffffff, true);
    quickly(() => rejects(() => readNpy(f), 'npy.header_length', `at most ${NPY_MAX_HEADER_BYTES}`));
  });
  it('a version 3.0 header that is not UTF-8', () => {
    rejects(() => readNpy(npyFile(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), 0, 3)), 'npy.header', 'UTF-8');
  });
  it('a header that is not a dict', () => rejects(() => readNpy(npyFile('[1, 2]\n')), 'npy.header', "expected '{'"));
  it('a header with a syntax error', () => {
    rejects(() => readNpy(npyFile("{'descr' '<f4'}")), 'npy.header', "expected ':'");
    rejects(() => readNpy(npyFile("{'descr: '<f4'}")), 'npy.header');
    rejects(
      () => readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)")),
      'npy.header',
      "expected '}'",
    );
  });
  it('a header with text after the dict', () =>
    rejects(() => readNpy(npyFile(`${hdr('<f4', '(1,)')}x`, 4)), 'npy.header', 'after the dict'));
  it('a header that would need evaluation', () => {
    rejects(
      () => readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (__import__('os'),), }")),
      'npy.header',
      'expected an integer',
    );
  });
  it('a duplicate key', () =>
    rejects(
      () => readNpy(npyFile("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (), }")),
      'npy.header',
      "duplicate key 'descr'",
    ));
  it('an unknown key', () =>
    rejects(
      () => readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}")),
      'npy.header',
      '"x"',
      'only the keys',
    ));
  it('a missing key', () =>
    rejects(() => readNpy(npyFile("{'descr': '<f4', 'shape': ()}")), 'npy.header', "missing key 'fortran_order'"));
  it('fortran_order that is not True/False', () =>
    rejects(
      () => readNpy(npyFile("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}")),
      'npy.header',
      'expected True or False',
    ));
  it('a shape that is not a tuple', () => {
    rejects(() => readNpy(npyFile(hdr('<f4', '[4]'), 16)), 'npy.header', 'shape must be a tuple');
    rejects(() => readNpy(npyFile(hdr('<f4', '(4)'), 16)), 'npy.header', 'trailing comma');
  });
  it('a negative shape dim', () =>
    rejects(() => readNpy(npyFile(hdr('<f4', '(-4,)'), 16)), 'npy.shape', '[-4]', 'non-negative'));
  it('a huge shape, quickly', () => {
    quickly(() => rejects(() => readNpy(npyFile(hdr('<f4', '(1000000000, 1000000000)'), 16)), 'npy.shape', 'at most'));
    quickly(() =>
      rejects(() => readNpy(npyFile(hdr('<f4', '(100000, 1000000000)'), 16)), 'npy.data', '400000000000000 bytes'),
    );
    quickly(() => rejects(() => readNpy(npyFile(hdr('<f4', '(100000000000000000000,)'), 16)), 'npy.shape'));
  });
  it('an unsupported descr, listing the accepted ones', () => {
    for (const d of ['<u2', '<c8', '|O', '<U10', '<f16', '|f4', 'f4', '<M8[ns]']) {
      rejects(() => readNpy(npyFile(hdr(d, '(1,)'), 16)), 'npy.descr', `"${d}"`, "'<f8', '<f4', '<f2'");
    }
  });
  it('a structured dtype', () => {
    rejects(
      () => readNpy(npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4)),
      'npy.descr',
      'structured',
    );
  });
  it('data shorter or longer than shape × itemsize', () => {
    rejects(() => readNpy(npyFile(hdr('<f4', '(2, 2)'), 15)), 'npy.data', 'received "15 bytes"', '16 bytes');
    rejects(() => readNpy(npyFile(hdr('<f4', '(2, 2)'), 17)), 'npy.data', '16 bytes');
  });
  it('I64 values outside int32', () => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, 2n ** 31n, true);
    rejects(() => readNpy(npyFile(hdr('<i8', '(1,)'), b)), 'npy', '2147483648', 'int32');
  });
});

/** Offsets of the central directory records of a zip (test helper, no validation). */
function cdRecords(z: Uint8Array): number[] {
  const dv = new DataView(z.buffer, z.byteOffset, z.length);
  let e = z.length - 22;
  while (dv.getUint32(e, true) !== 0x06054b50) e--;
  const out: number[] = [];
  for (let k = 0, o = dv.getUint32(e + 16, true); k < dv.getUint16(e + 10, true); k++) {
    out.push(o);
    o += 46 + dv.getUint16(o + 28, true) + dv.getUint16(o + 30, true) + dv.getUint16(o + 32, true);
  }
  return out;
}
const dataStart = (z: Uint8Array, lho: number) => {
  const dv = new DataView(z.buffer, z.byteOffset);
  return lho + 30 + dv.getUint16(lho + 26, true) + dv.getUint16(lho + 28, true);
};

describe('readNpz rejects', () => {
  const stored = () => fixture('savez.npz');
  const deflated = () => fixture('savez_compressed.npz');

  it('bytes that are not a zip', () => {
    rejects(() => readNpz(enc('definitely not a zip archive, just some text')), 'npz', 'no end-of-central-directory');
    rejects(() => readNpz(new Uint8Array(0)), 'npz', '22-byte');
    rejects(() => readNpz(writeNpy(SAMPLES.F32)), 'npz');
  });
  it('a truncated zip', () => {
    const z = stored();
    rejects(() => readNpz(z.subarray(0, z.length - 10)), 'npz', 'no end-of-central-directory');
    // Keep the directory but drop the first half of the entries.
    const cut = z.slice(z.length >> 1);
    rejects(() => readNpz(cut), 'npz');
  });
  it('an entry whose data run past the file', () => {
    const z = stored();
    const dv = new DataView(z.buffer);
    dv.setUint32(cdRecords(z)[0] + 20, 1e6, true);
    dv.setUint32(cdRecords(z)[0] + 24, 1e6, true);
    rejects(() => readNpz(z), 'npz', 'a truncated entry');
  });
  it('a corrupt deflate stream, with fflate’s message wrapped', () => {
    const z = deflated();
    const lho = new DataView(z.buffer).getUint32(cdRecords(z)[0] + 42, true);
    z[dataStart(z, lho)] = 0x07; // BFINAL, reserved block type 3
    const err = rejects(() => readNpz(z), /^npz: received "invalid block type"/);
    expect(err.field).toBe('npz');
  });
  it('a corrupt stored entry (CRC-32 mismatch)', () => {
    const z = stored();
    z[dataStart(z, 0) + 150] ^= 0x01;
    rejects(() => readNpz(z), 'npz["a.npy"].crc32', 'the declared CRC-32');
  });
  it('an entry larger than maxEntryBytes', () => {
    rejects(
      () => readNpz(deflated(), { maxEntryBytes: 1000 }),
      'npz["zeros.npy"].size',
      'received 4128',
      'maxEntryBytes',
    );
    expect(NPZ_MAX_ENTRY_BYTES).toBe(2 ** 31);
  });
  it('a forged uncompressed size (zip bomb) before inflating, quickly', () => {
    const z = deflated();
    new DataView(z.buffer).setUint32(cdRecords(z)[0] + 24, 0x7fffffff, true);
    quickly(() => rejects(() => readNpz(z), 'npz["zeros.npy"].size', '1032'));
    const s = stored();
    new DataView(s.buffer).setUint32(cdRecords(s)[0] + 24, 0xfffffffe, true);
    quickly(() => rejects(() => readNpz(s), 'npz["a.npy"].size', 'maxEntryBytes'));
  });
  it('a highly compressible entry over the cap (a real small bomb)', () => {
    const bomb = zipSync({ 'z.npy': [new Uint8Array(10_000_000), { level: 9 }] });
    expect(bomb.length).toBeLessThan(20_000);
    quickly(() => rejects(() => readNpz(bomb, { maxEntryBytes: 1_000_000 }), 'npz["z.npy"].size', 'received 10000000'));
  });
  it('a forged zip64 entry count (would loop 4 billion times), quickly', () => {
    const z = stored();
    const dv0 = new DataView(z.buffer);
    const e = z.length - 22;
    const cdOff = dv0.getUint32(e + 16, true);
    const rec = new Uint8Array(56 + 20);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, 0x06064b50, true);
    dv.setBigUint64(4, 44n, true);
    dv.setBigUint64(24, 0xffffffffn, true); // entries on this disk
    dv.setBigUint64(32, 0xffffffffn, true); // entries in total
    dv.setBigUint64(48, BigInt(cdOff), true);
    dv.setUint32(56, 0x07064b50, true);
    dv.setBigUint64(56 + 8, BigInt(e), true); // the zip64 record sits where the EOCD was
    const out = new Uint8Array(z.length + rec.length);
    out.set(z.subarray(0, e));
    out.set(rec, e);
    out.set(z.subarray(e), e + rec.length);
    quickly(() => rejects(() => readNpz(out), 'npz', '4294967295 entries'));
  });
  it('an entry name without .npy', () => {
    rejects(() => readNpz(zipSync({ 'README.txt': enc('hello') })), 'npz["README.txt"]', "ending in '.npy'");
  });
  it('a duplicate entry name', () => {
    const z = zipSync({ 'a.npy': writeNpy(SAMPLES.F32), 'b.npy': writeNpy(SAMPLES.I8) }, { level: 0 });
    for (let i = 0; i + 5 <= z.length; i++) if (String.fromCharCode(...z.subarray(i, i + 5)) === 'b.npy') z[i] = 0x61;
    rejects(() => readNpz(z), 'npz["a.npy"]', 'occur once');
  });
  it('an encrypted entry', () => {
    const z = stored();
    z[cdRecords(z)[1] + 8] |= 1;
    rejects(() => readNpz(z), 'npz', 'encrypted');
  });
  it('an entry that is not a valid NPY, naming the entry', () => {
    rejects(() => readNpz(zipSync({ 'w.npy': enc('not npy at all') })), 'npz["w.npy"].npy.magic');
    const bad = writeNpy(SAMPLES.F32).slice(0, -1);
    rejects(() => readNpz(zipSync({ 'w.npy': bad })), 'npz["w.npy"].npy.data');
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzzing. A read either succeeds, with decoded data no bigger than the widening allows (≤ 4× the
// input: int8/uint8/bool → int32, 16-bit floats → float32), or throws ConfigError; anything else,
// or a call slower than FUZZ_MS (a hang), fails.

const FUZZ_RUNS = 300;
const FUZZ_MS = 1000;

type Reader = {
  name: string;
  read: (b: Uint8Array) => Iterable<Tensor>;
  bound: (n: number) => number;
  bases: Uint8Array[];
};
const readers: Reader[] = [
  {
    name: 'readSafetensors',
    read: (b) => readSafetensors(b).tensors.values(),
    bound: (n) => 4 * n,
    bases: [fixture('all.safetensors'), fixture('bf16.safetensors'), writeSafetensors(SAMPLES, { a: 'b' })],
  },
  {
    name: 'readNpy',
    read: (b) => [readNpy(b)],
    bound: (n) => 4 * n,
    bases: ['f2.npy', 'fortran_i4_3d.npy', 'be_f4.npy', 'v2.npy', 'v3.npy', 'scalar.npy', 'b1.npy'].map(fixture),
  },
  {
    name: 'readNpz',
    read: (b) => readNpz(b).values(),
    // A mutation can turn a stored entry into a deflated one; deflate expands at most 1032×.
    bound: (n) => 4 * 1032 * n + 4096,
    bases: [fixture('savez.npz'), fixture('savez_compressed.npz'), writeNpz({ x: SAMPLES.F16, y: SAMPLES.U8 })],
  },
];

function tryRead(r: Reader, bytes: Uint8Array): void {
  const t0 = performance.now();
  let decoded = -1;
  try {
    decoded = decodedBytes(r.read(bytes));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`${r.name} threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  const ms = performance.now() - t0;
  if (ms > FUZZ_MS) throw new Error(`${r.name} took ${ms.toFixed(0)} ms on ${bytes.length} bytes`);
  if (decoded > r.bound(bytes.length)) throw new Error(`${r.name} decoded ${decoded} bytes from ${bytes.length}`);
}

/** Bytes that keep a JSON or Python-literal header parseable more often than random bytes do. */
const SYNTAX = enc('0123456789-.,:[](){}"\' eE<>|=fiubTrueFalse');

const mutation = fc.record({
  base: fc.nat(),
  edits: fc.array(
    fc.record({
      // Edits land at the start (headers), anywhere, or in the last 128 bytes (a zip's directory).
      where: fc.constantFrom('start', 'anywhere', 'end'),
      pos: fc.nat(),
      byte: fc.oneof(
        fc.integer({ min: 0, max: 255 }),
        fc.nat().map((i) => SYNTAX[i % SYNTAX.length]),
      ),
    }),
    { maxLength: 4 },
  ),
  cut: fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.nat(), weight: 1 }),
  length: fc.oneof(
    { arbitrary: fc.constant(null), weight: 3 },
    { arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), weight: 1 },
    { arbitrary: fc.bigInt({ min: 0n, max: 4096n }), weight: 1 },
  ),
});
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(r: Reader, m: Mutation): Uint8Array {
  const base = r.bases[m.base % r.bases.length];
  let b: Uint8Array = base.slice();
  if (!b.length) return b;
  for (const { where, pos, byte } of m.edits) {
    const i =
      where === 'start'
        ? pos % Math.min(b.length, 128)
        : where === 'end'
          ? b.length - 1 - (pos % Math.min(b.length, 128))
          : pos % b.length;
    b[i] = byte;
  }
  if (m.length !== null && b.length >= 16) {
    const dv = new DataView(b.buffer, b.byteOffset);
    if (r.name === 'readSafetensors') dv.setBigUint64(0, m.length, true);
    else if (r.name === 'readNpy') {
      if (b[6] === 1) dv.setUint16(8, Number(m.length & 0xffffn), true);
      else dv.setUint32(8, Number(m.length & 0xffffffffn), true);
    } else {
      // Rewrite a size or offset in the first central directory record, or the directory's offset.
      const e = b.length - 22;
      if (dv.getUint32(e, true) === 0x06054b50) {
        const cd = dv.getUint32(e + 16, true);
        const at = [cd + 20, cd + 24, cd + 42, e + 16][Number(m.length % 4n)];
        if (at + 4 <= b.length) dv.setUint32(at, Number((m.length >> 2n) & 0xffffffffn), true);
      }
    }
  }
  if (m.cut !== null) b = b.subarray(0, m.cut % (b.length + 1));
  return b;
}

/** safetensors files with well-formed JSON: contiguous offsets for random (dtype, shape), then perturbed. */
const structuredSafetensors = fc
  .record({
    entries: fc.array(
      fc.record({
        name: fc.string({ maxLength: 3 }),
        dtype: fc.oneof(
          { arbitrary: fc.constantFrom<unknown>(...DTYPES), weight: 5 },
          fc.constantFrom<unknown>('U16', 'F8_E4M3', 4, null),
        ),
        shape: fc.oneof(
          { arbitrary: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), weight: 5 },
          fc.constantFrom<unknown>([-1], [2.5], '3', [1e9, 1e9], null),
        ),
      }),
      { maxLength: 4 },
    ),
    perturb: fc.array(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 2), fc.integer({ min: -8, max: 8 })), { maxLength: 2 }),
    extra: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, fc.integer({ min: -4, max: 4 })),
    metadata: fc.option(
      fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { maxKeys: 2 }),
    ),
  })
  .map(({ entries, perturb, extra, metadata }) => {
    const header: Record<string, unknown> = {};
    let at = 0;
    for (const e of entries) {
      const n = Array.isArray(e.shape) ? e.shape.reduce((a: number, d: number) => a * d, 1) : 1;
      const size =
        typeof e.dtype === 'string' && (DTYPES as readonly string[]).includes(e.dtype)
          ? ({ F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2 }[e.dtype as string] ?? 1)
          : 1;
      const end = at + Math.min(n * size, 1 << 16);
      header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [at, end] };
      at = end;
    }
    const keys = Object.keys(header);
    for (const [k, which, delta] of perturb) {
      if (!keys.length) break;
      const offs = (header[keys[k % keys.length]] as { data_offsets: number[] }).data_offsets;
      if (which !== 1) offs[0] += delta; // begin, or both: a shift makes overlaps and holes
      if (which !== 0) offs[1] += delta;
    }
    if (metadata) header.__metadata__ = metadata;
    return stFile(header, Math.max(0, at + extra));
  });

/** NPY files with a random but mostly well-formed header and a data length near the right one. */
const structuredNpy = fc
  .record({
    descr: fc.oneof(
      {
        arbitrary: fc.constantFrom('<f8', '<f4', '<f2', '<i8', '<i4', '<i2', '|i1', '|u1', '|b1', '>f4', '>i8', '=i2'),
        weight: 5,
      },
      fc.constantFrom('<u2', '|f4', "[('a', '<f4')]", ''),
    ),
    fortran: fc.oneof({ arbitrary: fc.constantFrom('True', 'False'), weight: 6 }, fc.constantFrom('false', '1')),
    shape: fc.array(fc.integer({ min: -1, max: 5 }), { maxLength: 4 }),
    trailingComma: fc.boolean(),
    order: fc.oneof(
      { arbitrary: fc.constantFrom([0, 1, 2], [2, 1, 0], [1, 0, 2]), weight: 6 },
      fc.constantFrom([0, 1], [0, 1, 2, 2]),
    ),
    delta: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, fc.integer({ min: -3, max: 3 })),
    major: fc.constantFrom(1, 2, 3),
  })
  .map(({ descr, fortran, shape, trailingComma, order, delta, major }) => {
    const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
    const items = [
      `'descr': ${descr.startsWith('[') ? descr : `'${descr}'`}`,
      `'fortran_order': ${fortran}`,
      `'shape': ${shapeText}`,
    ];
    const header = `{${order.map((i) => items[i]).join(', ')}${trailingComma ? ', ' : ''}}\n`;
    const itemsize = Number(descr.slice(2)) || 1;
    const n = shape.reduce((a, d) => a * Math.max(d, 0), 1);
    return npyFile(header, Math.max(0, n * itemsize + delta), major);
  });

describe('fuzzing: only ConfigError, no hang, no allocation beyond the declared sizes', () => {
  for (const r of readers) {
    it(`${r.name}: random bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 1024 }), (b) => tryRead(r, b)),
        { numRuns: FUZZ_RUNS },
      );
    }, 20_000);
    it(`${r.name}: random bytes after a valid prefix`, () => {
      const prefix = r.bases[0].subarray(0, r.name === 'readNpz' ? 30 : 10);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 1024 }), (tail) => {
          const b = new Uint8Array(prefix.length + tail.length);
          b.set(prefix);
          b.set(tail, prefix.length);
          tryRead(r, b);
        }),
        { numRuns: FUZZ_RUNS },
      );
    }, 20_000);
    it(`${r.name}: well-formed containers with random contents`, () => {
      const files =
        r.name === 'readSafetensors'
          ? structuredSafetensors
          : r.name === 'readNpy'
            ? structuredNpy
            : fc
                .array(fc.tuple(fc.string({ maxLength: 4 }), structuredNpy, fc.boolean()), { maxLength: 3 })
                .map((es) =>
                  zipSync(
                    Object.fromEntries(es.map(([k, b, deflate]) => [`${k}.npy`, [b, { level: deflate ? 6 : 0 }]])),
                  ),
                );
      fc.assert(
        fc.property(files, (b) => tryRead(r, b)),
        { numRuns: FUZZ_RUNS },
      );
    }, 20_000);
    it(`${r.name}: valid files with mutations, truncations and rewritten lengths`, () => {
      fc.assert(
        fc.property(mutation, (m) => tryRead(r, mutate(r, m))),
        { numRuns: 3 * FUZZ_RUNS },
      );
    }, 20_000);
  }
});
