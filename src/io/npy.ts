// NumPy .npy files (format versions 1.0, 2.0 and 3.0), little-endian, C order.
// Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import { readFile, writeFile } from '../platform/index.js';

export type NpyDtype = 'float32' | 'float64' | 'uint8' | 'int32' | 'int64';
export type NpyData = Float32Array | Float64Array | Uint8Array | Int32Array | BigInt64Array;

export interface NpyArray {
  shape: number[];
  dtype: NpyDtype;
  data: NpyData;
}

const MAGIC = '\x93NUMPY';

// numpy writes '|u1' for bytes; '<' is little-endian. '>' (big-endian) is rejected separately.
const DTYPES: Record<string, { dtype: NpyDtype; bytes: number }> = {
  '<f4': { dtype: 'float32', bytes: 4 },
  '<f8': { dtype: 'float64', bytes: 8 },
  '|u1': { dtype: 'uint8', bytes: 1 },
  '<u1': { dtype: 'uint8', bytes: 1 },
  '<i4': { dtype: 'int32', bytes: 4 },
  '<i8': { dtype: 'int64', bytes: 8 },
};

/** Bytes as text, one character per byte (Latin-1), as the format's header and magic string are. */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

export function readNpy(source: string | Uint8Array): NpyArray {
  const name = typeof source === 'string' ? source : 'npy buffer';
  const bytes = typeof source === 'string' ? readFile(source) : source;
  const fail: (why: string) => never = (why) => {
    throw new Error(`${name}: ${why}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  if (bytes.length < 10 || latin1(bytes, 0, 6) !== MAGIC) fail('not an npy file (bad magic string)');
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) fail(`unsupported npy format version ${major}.${bytes[7]}`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('truncated header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (bytes.length < dataStart) fail('truncated header');
  // Version 3.0 only differs by allowing UTF-8 in the header (for structured field names).
  const header = major === 3 ? new TextDecoder().decode(bytes.subarray(8 + lengthBytes, dataStart)) : latin1(bytes, 8 + lengthBytes, dataStart);

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`unsupported or malformed header ${JSON.stringify(header.trim())}`);
  }
  if (descr.startsWith('>')) fail(`big-endian data (${descr}) is not supported; save it with dtype '<${descr.slice(1)}'`);
  if (fortran === 'True') fail('fortran_order=True is not supported; save a C-contiguous array (np.ascontiguousarray)');
  const type = DTYPES[descr] ?? fail(`unsupported dtype '${descr}' (expected float32, float64, uint8, int32 or int64)`);

  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`malformed shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const byteLength = count * type.bytes;
  if (bytes.length < dataStart + byteLength) {
    fail(`truncated data: expected ${byteLength} bytes for shape [${shape}], found ${bytes.length - dataStart}`);
  }

  // Copy into a fresh ArrayBuffer: the data offset is rarely aligned for the typed array.
  const start = bytes.byteOffset + dataStart;
  const buffer = bytes.buffer.slice(start, start + byteLength) as ArrayBuffer;
  return { shape, dtype: type.dtype, data: typedArray(type.dtype, buffer) };
}

function typedArray(dtype: NpyDtype, buffer: ArrayBuffer): NpyData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'uint8':
      return new Uint8Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
  }
}

/** Reads any supported dtype and converts it to float32 (int64 beyond 2^53 loses precision). */
export function readNpyFloat32(source: string | Uint8Array): { shape: number[]; data: Float32Array } {
  const { shape, data } = readNpy(source);
  if (data instanceof Float32Array) return { shape, data };
  if (data instanceof BigInt64Array) return { shape, data: Float32Array.from(data, Number) };
  return { shape, data: Float32Array.from(data) };
}

/** Encodes a float32 C-order array as an .npy (version 1.0) file image. */
export function encodeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new Error(`encodeNpy: shape [${shape}] holds ${count} values but data has ${data.length}`);
  }
  // Python tuple syntax: a 1-tuple needs its trailing comma.
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy pads with spaces so that the data starts on a 64-byte boundary, and ends the header with '\n'.
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  const text = MAGIC + '\x01\x00' + '\0\0' + header;
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export function writeNpy(path: string, shape: readonly number[], data: Float32Array): void {
  writeFile(path, encodeNpy(shape, data));
}
