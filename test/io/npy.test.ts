import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, readNpy, readNpyFloat32, writeNpy } from '../../src/io/npy.js';
import { fixture } from './fixtures.js';

// The values below are the ones the fixture script hands to numpy.
describe('readNpy on files numpy wrote', () => {
  it('reads float32 with its shape', () => {
    const a = readNpy(fixture('npy/f32.npy'));
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Float32Array)).toEqual([-1, -0.5, 0, 0.5, 1, 1.5]);
  });

  it('reads float64', () => {
    const a = readNpy(fixture('npy/f64.npy'));
    expect(a.dtype).toBe('float64');
    expect(a.shape).toEqual([3, 2]);
    expect(Array.from(a.data as Float64Array)).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * Math.PI));
  });

  it('reads uint8, int32 and int64', () => {
    expect(Array.from(readNpy(fixture('npy/u8.npy')).data as Uint8Array)).toEqual([0, 1, 127, 255]);
    const i32 = readNpy(fixture('npy/i32.npy'));
    expect(i32.dtype).toBe('int32');
    expect(Array.from(i32.data as Int32Array)).toEqual([-2147483648, -1, 0, 2147483647]);
    const i64 = readNpy(fixture('npy/i64.npy'));
    expect(i64.dtype).toBe('int64');
    expect(Array.from(i64.data as BigInt64Array)).toEqual([-(2n ** 62n), -1n, 0n, 2n ** 60n + 1n]);
  });

  it('reads a 0-d array and an empty one', () => {
    const scalar = readNpy(fixture('npy/scalar.npy'));
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data as Float32Array)).toEqual([3.5]);
    const empty = readNpy(fixture('npy/empty.npy'));
    expect(empty.shape).toEqual([0, 3]);
    expect(empty.data.length).toBe(0);
  });

  it('reads format versions 2.0 and 3.0', () => {
    for (const name of ['npy/v2.npy', 'npy/v3.npy']) {
      const bytes = readFileSync(fixture(name));
      expect(bytes[6]).toBeGreaterThanOrEqual(2); // numpy really wrote the newer header
      expect(Array.from(readNpy(bytes).data as Float32Array)).toEqual([0, 1, 2, 3]);
    }
  });

  it('converts to float32', () => {
    expect(Array.from(readNpyFloat32(fixture('npy/u8.npy')).data)).toEqual([0, 1, 127, 255]);
    expect(readNpyFloat32(fixture('npy/f64.npy')).data[1]).toBe(Math.fround(Math.PI));
    expect(Array.from(readNpyFloat32(fixture('npy/i64.npy')).data)).toEqual([-(2 ** 62), -1, 0, 2 ** 60].map(Math.fround));
  });
});

describe('readNpy errors name the file and the problem', () => {
  const cases: [string, RegExp][] = [
    ['npy/not_npy.npy', /not_npy\.npy: not an npy file/],
    ['npy/big_endian.npy', /big_endian\.npy: big-endian/],
    ['npy/fortran.npy', /fortran\.npy: fortran_order=True/],
    ['npy/complex.npy', /complex\.npy: unsupported dtype '<c8'/],
    ['npy/truncated.npy', /truncated\.npy: truncated data: expected 24 bytes .* found 20/],
  ];
  for (const [name, message] of cases) {
    it(name, () => expect(() => readNpy(fixture(name))).toThrow(message));
  }

  it('rejects a header cut short', () => {
    const bytes = readFileSync(fixture('npy/f32.npy')).subarray(0, 40);
    expect(() => readNpy(bytes)).toThrow(/npy buffer: truncated header/);
  });
});

describe('writeNpy', () => {
  it('round-trips shapes of every rank', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const shapes = [[], [5], [2, 3], [1, 2, 3, 4]];
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => i * 0.25 - 1);
      const path = join(dir, `a${shape.length}.npy`);
      writeNpy(path, shape, data);
      const back = readNpy(path);
      expect(back.dtype).toBe('float32');
      expect(back.shape).toEqual(shape);
      expect(back.data).toEqual(data);
    }
  });

  it('writes byte for byte what numpy writes', () => {
    const cases: [string, number[], number[]][] = [
      ['npy/f32.npy', [2, 3], [-1, -0.5, 0, 0.5, 1, 1.5]],
      ['npy/f32_1d.npy', [4], [0, 1, 2, 3]],
      ['npy/scalar.npy', [], [3.5]],
      ['npy/empty.npy', [0, 3], []],
    ];
    for (const [name, shape, values] of cases) {
      expect(encodeNpy(shape, Float32Array.from(values))).toEqual(new Uint8Array(readFileSync(fixture(name))));
    }
  });

  it('refuses data that does not match the shape', () => {
    expect(() => encodeNpy([2, 2], new Float32Array(3))).toThrow(/holds 4 values but data has 3/);
  });
});
