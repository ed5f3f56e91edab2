// The ONNX loader's external data: weights stored in a file beside the model (ONNX's form for models
// over protobuf's 2 GB, and for several models sharing one weights file, as the torchvision references
// do) read back to the same constants as the inline model, and every malformed reference refused.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { loadOnnx, loadOnnxFile } from '../src/onnx/load.js';
import { floats, onnxOf } from './support/model-spec.js';

const { onnx } = onnxProto;

// y = x * a + b with two float initializers of different sizes.
const a = Array.from({ length: 12 }, (_, i) => (i - 5.5) / 3);
const b = [0.25, -1.5, 3];
const inline = onnxOf({
  inputs: { x: [4, 3] },
  nodes: [
    { op: 'Mul', inputs: ['x', 'a'] },
    { op: 'Add', inputs: ['t0', 'b'] },
  ],
  initializers: { a: floats([4, 3], a), b: floats([3], b) },
});

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

/**
 * The inline model with its initializers moved to external data: `where(name)` gives each one's
 * external_data entries (location, offset, length as ONNX writes them).
 */
function externalModel(where: (name: string) => Record<string, string>): Uint8Array {
  const model = onnx.ModelProto.decode(inline);
  for (const t of model.graph!.initializer!) {
    t.floatData = [];
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = Object.entries(where(t.name!)).map(([key, value]) => ({ key, value }));
  }
  return onnx.ModelProto.encode(model).finish();
}

/** A folder holding model.onnx and the given files; the path of model.onnx. */
function folderWith(model: Uint8Array, files: Record<string, Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gradcam-onnx-'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  writeFileSync(join(dir, 'model.onnx'), model);
  return join(dir, 'model.onnx');
}

// One shared file: `pad` bytes, a, then b.
const sharedFile = (pad: number) => new Uint8Array([...new Uint8Array(pad), ...f32Bytes(a), ...f32Bytes(b)]);
const entriesAt =
  (pad: number) =>
  (name: string): Record<string, string> =>
    name === 'a' ? { location: 'weights.bin', offset: String(pad), length: String(4 * a.length) } : { location: 'weights.bin', offset: String(pad + 4 * a.length), length: '12' };
const shared = sharedFile(8);
const sharedEntries = entriesAt(8);

describe('ONNX external data', () => {
  // Aligned tensors are copied as whole arrays, unaligned ones value by value: both paths.
  for (const pad of [8, 3]) {
    it(`reads tensors from one shared file at their offsets (${pad} bytes before the first), the same constants as the inline model`, () => {
      const expected = loadOnnx(inline).constants;
      const loaded = loadOnnxFile(folderWith(externalModel(entriesAt(pad)), { 'weights.bin': sharedFile(pad) })).constants;
      for (const name of ['a', 'b']) {
        expect(loaded.get(name)!.shape).toEqual(expected.get(name)!.shape);
        expect(Array.from(loaded.get(name)!.data as Float32Array)).toEqual(Array.from(expected.get(name)!.data as Float32Array));
      }
    });
  }

  it('reads a whole file when offset and length are left out, and files in a subfolder', () => {
    const model = externalModel((name) => ({ location: name === 'a' ? 'sub/a.bin' : 'b.bin' }));
    const path = folderWith(model, { 'b.bin': f32Bytes(b) });
    const dir = join(path, '..');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'a.bin'), f32Bytes(a));
    const loaded = loadOnnxFile(path).constants;
    expect(Array.from(loaded.get('a')!.data as Float32Array)).toEqual(Array.from(new Float32Array(a)));
    expect(Array.from(loaded.get('b')!.data as Float32Array)).toEqual(Array.from(new Float32Array(b)));
  });

  const refused: [string, (name: string) => Record<string, string>, Record<string, Uint8Array>, RegExp][] = [
    ['a missing file', sharedEntries, {}, /^cannot read external data file "weights\.bin" of model ".*model\.onnx"/],
    ['a range past the end of the file', (n) => ({ ...sharedEntries(n), length: '400' }), { 'weights.bin': shared }, /initializer "a" reads bytes 8 to 408 of "weights\.bin", which holds 68/],
    ['an offset past the end of the file', () => ({ location: 'weights.bin', offset: '100' }), { 'weights.bin': shared }, /reads bytes 100 to 68 of "weights\.bin", which holds 68/],
    ['too few bytes for the shape', () => ({ location: 'weights.bin', length: '4' }), { 'weights.bin': shared }, /initializer "a" holds 4 bytes, fewer than its shape \[4,3\] needs/],
    ['a location that climbs out of the folder', () => ({ location: '../weights.bin' }), {}, /"\.\.\/weights\.bin", which is outside the model's folder/],
    ['an absolute location', () => ({ location: '/etc/passwd' }), {}, /"\/etc\/passwd", which is outside the model's folder/],
    ['no location', () => ({ offset: '0' }), {}, /initializer "a" is stored in external data but names no file/],
    ['an offset that is not a byte count', () => ({ location: 'weights.bin', offset: '-8' }), { 'weights.bin': shared }, /external data offset "-8" is not a byte count/],
  ];
  for (const [what, entries, files, message] of refused) {
    it(`refuses ${what} with a clear error`, () => {
      expect(() => loadOnnxFile(folderWith(externalModel(entries), files))).toThrow(message);
    });
  }

  it('refuses external data when the model comes as bytes alone (as in a browser)', () => {
    expect(() => loadOnnx(externalModel(sharedEntries), 'model.onnx')).toThrow(
      /^initializer "a" is stored in external data file "weights\.bin"; load the model from its file/,
    );
  });
});

// Weights stored as float16 or bfloat16 are widened to float32 at load, bit-exactly: every binary16 and
// bfloat16 value is a float32 value. The bit patterns cover signs, the smallest subnormal, the largest
// finite value, infinities, and raw_data as well as int32_data storage.
describe('weights stored as float16 and bfloat16', () => {
  const half: [number, number][] = [
    [0x0000, 0], [0x8000, -0], [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14], [0x7bff, 65504], [0x7c00, Infinity], [0xfc00, -Infinity],
  ];
  const bfloat: [number, number][] = [[0x3f80, 1], [0xc040, -3], [0x3eab, 0.333984375], [0x0001, 2 ** -133], [0x7f7f, 3.3895313892515355e38]];

  function modelWith(dataType: number, bits: number[], raw: boolean): Uint8Array {
    const model = onnx.ModelProto.decode(inline);
    const t = model.graph!.initializer!.find((i) => i.name === 'b')!;
    t.dataType = dataType;
    t.dims = [bits.length];
    t.floatData = [];
    if (raw) t.rawData = new Uint8Array(new Uint16Array(bits).buffer);
    else t.int32Data = bits;
    return onnx.ModelProto.encode(model).finish();
  }

  for (const [name, dataType, cases] of [['float16', onnx.TensorProto.DataType.FLOAT16, half], ['bfloat16', onnx.TensorProto.DataType.BFLOAT16, bfloat]] as const) {
    for (const raw of [true, false]) {
      it(`widens ${name} from ${raw ? 'raw_data' : 'int32_data'} exactly, and says so`, () => {
        const graph = loadOnnx(modelWith(dataType, cases.map(([bits]) => bits), raw));
        const got = graph.constants.get('b')!;
        expect(got.dtype).toBe('float32');
        expect(Array.from(got.data as Float32Array)).toEqual(cases.map(([, value]) => value));
        expect(graph.widened).toEqual({ [name]: 1 });
      });
    }
  }
});
