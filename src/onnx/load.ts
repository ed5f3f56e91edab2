// Reads an ONNX file into the engine's Graph: weights become Float32Array constants, integer tensors
// become number lists, Constant nodes become constants, and every node input is checked to exist.
// Weights may sit in external data files beside the model (ONNX's form for models over protobuf's
// 2 GB, and for models that share one weights file).
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';
import { type AttributeValue, type Constant, type Graph, type GraphInput, type Node } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { readFile } from '../platform/index.js';
import { MAX_OPSET, MIN_OPSET } from './versions.js';

const { onnx } = onnxProto;
type Long = { toNumber(): number };
type IntLike = number | Long;


const DataType = onnx.TensorProto.DataType;
// ONNX stores little-endian; on a little-endian host (every WebGPU platform) aligned float bytes are
// copied as they are (external data files align their tensors), others are read one by one.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const AttrType = onnx.AttributeProto.AttributeType;
/** Float types narrower than float32: their tensors are widened at load (the engine computes in float32). */
const NARROW_FLOATS = new Map([[DataType.FLOAT16, 'float16'], [DataType.BFLOAT16, 'bfloat16']]);

function toNumber(v: IntLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** The bytes of an external data file, by its `location` (relative to the model's folder). */
export type ExternalDataReader = (location: string) => Uint8Array;

export function loadOnnxFile(path: string): Graph {
  let bytes: Uint8Array;
  try {
    bytes = readFile(path);
  } catch (e) {
    throw new UserError(`cannot read model "${path}": ${(e as Error).message}`);
  }
  const folder = path.slice(0, Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  // Every tensor of a shared weights file names the same file: read it once.
  const files = new Map<string, Uint8Array>();
  const readExternal = (location: string) => {
    let file = files.get(location);
    if (!file) {
      try {
        file = readFile(folder + location);
      } catch (e) {
        throw new UserError(`cannot read external data file "${location}" of model "${path}": ${(e as Error).message}`);
      }
      files.set(location, file);
    }
    return file;
  };
  return loadOnnx(bytes, path, readExternal);
}

/** `readExternal` reads the files that external-data tensors name; without it they are refused. */
export function loadOnnx(bytes: Uint8Array, label = 'model', readExternal?: ExternalDataReader): Graph {
  if (bytes.length === 0) throw new UserError(`${label} is empty, not an ONNX model`);
  let model: OnnxTypes.IModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new UserError(`${label} is not an ONNX model, or is truncated (${(e as Error).message})`);
  }
  const graphProto = model.graph;
  if (!graphProto || !graphProto.node || graphProto.node.length === 0) {
    throw new UserError(`${label} is not an ONNX model: it has no graph nodes`);
  }
  const opset = defaultDomainOpset(model, label);

  const constants = new Map<string, Constant>();
  const widened: Record<string, number> = {};
  for (const init of graphProto.initializer ?? []) {
    constants.set(init.name ?? '', tensorToConstant(init, `initializer "${init.name}"`, readExternal));
    const narrow = NARROW_FLOATS.get(init.dataType ?? 0);
    if (narrow) widened[narrow] = (widened[narrow] ?? 0) + 1;
  }

  const nodes: Node[] = [];
  const known = new Set<string>(constants.keys());
  const inputs: GraphInput[] = [];
  for (const vi of graphProto.input ?? []) {
    const name = vi.name ?? '';
    if (constants.has(name)) continue; // older exporters list initializers as inputs too
    const dims = (vi.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : -1));
    inputs.push({ name, dims });
    known.add(name);
  }

  graphProto.node.forEach((np, index) => {
    const name = np.name || `${np.opType}_${index}`;
    const opType = np.opType ?? '';
    if (np.domain && np.domain !== 'ai.onnx') {
      throw new UserError(`node "${name}" uses op ${np.domain}::${opType}, outside the default ONNX domain; it is not supported`);
    }
    const attributes = new Map<string, AttributeValue>();
    for (const a of np.attribute ?? []) attributes.set(a.name ?? '', attributeValue(a, name, readExternal));
    const inputsOfNode = [...(np.input ?? [])];
    const outputsOfNode = [...(np.output ?? [])];
    for (const inp of inputsOfNode) {
      if (inp !== '' && !known.has(inp)) {
        throw new UserError(
          `${opType} node "${name}": input "${inp}" is missing (not an initializer, a graph input or the output of an earlier node)`,
        );
      }
    }
    if (opType === 'Constant') {
      constants.set(outputsOfNode[0], constantNodeValue(attributes, name));
      known.add(outputsOfNode[0]);
      return;
    }
    nodes.push({ name, opType, inputs: inputsOfNode, outputs: outputsOfNode, attributes });
    for (const out of outputsOfNode) if (out !== '') known.add(out);
  });

  const outputs = (graphProto.output ?? []).map((o) => o.name ?? '');
  for (const out of outputs) {
    if (!known.has(out)) throw new UserError(`${label}: graph output "${out}" is produced by no node`);
  }
  if (inputs.length === 0) throw new UserError(`${label} has no graph input`);
  return { nodes, inputs, outputs, constants, opset, ...(Object.keys(widened).length ? { widened } : {}) };
}

/** One serialized TensorProto (ONNX's test data files, input_0.pb ...) as a constant. */
export function decodeTensorProto(bytes: Uint8Array, label = 'tensor'): Constant {
  let t: OnnxTypes.ITensorProto;
  try {
    t = onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new UserError(`${label} is not an ONNX tensor (${(e as Error).message})`);
  }
  return tensorToConstant(t, label);
}

function defaultDomainOpset(model: OnnxTypes.IModelProto, label: string): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) throw new UserError(`${label} declares no opset for the default ONNX domain`);
  const opset = toNumber(entry.version);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UserError(`${label} uses opset ${opset}; supported opsets are ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  return opset;
}

function constantNodeValue(attributes: Map<string, AttributeValue>, nodeName: string): Constant {
  const value = attributes.get('value');
  if (value !== undefined && typeof value === 'object' && !Array.isArray(value)) return value;
  const f = attributes.get('value_float');
  if (typeof f === 'number') return { dtype: 'float32', shape: [], data: new Float32Array([f]) };
  const fs = attributes.get('value_floats');
  if (Array.isArray(fs)) return { dtype: 'float32', shape: [fs.length], data: new Float32Array(fs as number[]) };
  const i = attributes.get('value_int');
  if (typeof i === 'number') return { dtype: 'int64', shape: [], data: [i] };
  const is = attributes.get('value_ints');
  if (Array.isArray(is)) return { dtype: 'int64', shape: [is.length], data: is as number[] };
  throw new UserError(`Constant node "${nodeName}" has no supported value attribute`);
}

function attributeValue(a: OnnxTypes.IAttributeProto, nodeName: string, readExternal?: ExternalDataReader): AttributeValue {
  switch (a.type) {
    case AttrType.FLOAT:
      return a.f ?? 0;
    case AttrType.INT:
      return toNumber(a.i);
    case AttrType.STRING:
      return new TextDecoder().decode(a.s ?? new Uint8Array());
    case AttrType.TENSOR:
      return tensorToConstant(a.t!, `attribute "${a.name}" of node "${nodeName}"`, readExternal);
    case AttrType.FLOATS:
      return [...(a.floats ?? [])];
    case AttrType.INTS:
      return (a.ints ?? []).map(toNumber);
    case AttrType.STRINGS:
      return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    default:
      throw new UserError(`node "${nodeName}": attribute "${a.name}" has a type (${a.type}) the engine does not read`);
  }
}

/** The bytes an external-data tensor names: its file's `length` bytes from `offset` (default: all). */
function externalBytes(t: OnnxTypes.ITensorProto, what: string, readExternal?: ExternalDataReader): Uint8Array {
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) throw new UserError(`${what} is stored in external data but names no file (no "location")`);
  // ONNX's rule: a location is relative to the model's folder and never climbs out of it.
  if (/^([/\\]|[A-Za-z]:)/.test(location) || location.split(/[/\\]/).includes('..')) {
    throw new UserError(`${what} names external data file "${location}", which is outside the model's folder`);
  }
  if (!readExternal) {
    throw new UserError(`${what} is stored in external data file "${location}"; load the model from its file so that file can be read`);
  }
  const file = readExternal(location);
  const number = (key: string, fallback: number) => {
    const text = entries.get(key);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new UserError(`${what}: external data ${key} "${text}" is not a byte count`);
    return value;
  };
  const offset = number('offset', 0);
  const length = number('length', file.length - offset);
  if (offset > file.length || offset + length > file.length) {
    throw new UserError(`${what} reads bytes ${offset} to ${offset + length} of "${location}", which holds ${file.length}`);
  }
  return file.subarray(offset, offset + length);
}

function tensorToConstant(t: OnnxTypes.ITensorProto, what: string, readExternal?: ExternalDataReader): Constant {
  const shape = (t.dims ?? []).map(toNumber);
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  const raw =
    t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL
      ? externalBytes(t, what, readExternal)
      : t.rawData && t.rawData.length > 0
        ? t.rawData
        : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const need = (bytesPerElement: number) => {
    if (view && view.byteLength < count * bytesPerElement) {
      throw new UserError(`${what} holds ${view.byteLength} bytes, fewer than its shape [${shape}] needs`);
    }
  };
  switch (t.dataType) {
    case DataType.FLOAT: {
      const data = new Float32Array(count);
      if (view) {
        need(4);
        if (LITTLE_ENDIAN && raw!.byteOffset % 4 === 0) data.set(new Float32Array(raw!.buffer, raw!.byteOffset, count));
        else for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
      } else {
        checkLength(t.floatData?.length ?? 0, count, what);
        data.set(t.floatData!);
      }
      return { dtype: 'float32', shape, data };
    }
    case DataType.FLOAT16:
    case DataType.BFLOAT16: {
      // 16-bit values: little-endian in raw_data, or one per int32_data entry.
      const bits = view ? (need(2), Array.from({ length: count }, (_, i) => view.getUint16(i * 2, true))) : [...(t.int32Data ?? [])];
      if (!view) checkLength(bits.length, count, what);
      const widen = t.dataType === DataType.FLOAT16 ? halfToFloat : bfloat16ToFloat;
      return { dtype: 'float32', shape, data: Float32Array.from(bits, widen) };
    }
    case DataType.INT64: {
      if (view) {
        need(8);
        return { dtype: 'int64', shape, data: Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true))) };
      }
      checkLength(t.int64Data?.length ?? 0, count, what);
      return { dtype: 'int64', shape, data: t.int64Data!.map(toNumber) };
    }
    case DataType.INT32:
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.BOOL: {
      if (view) {
        const size = t.dataType === DataType.INT32 ? 4 : 1;
        need(size);
        const read = (i: number) =>
          size === 4 ? view.getInt32(i * 4, true) : t.dataType === DataType.INT8 ? view.getInt8(i) : view.getUint8(i);
        return { dtype: 'int64', shape, data: Array.from({ length: count }, (_, i) => read(i)) };
      }
      checkLength(t.int32Data?.length ?? 0, count, what);
      return { dtype: 'int64', shape, data: [...t.int32Data!] };
    }
    default: {
      const typeName = DataType[t.dataType ?? 0] ?? String(t.dataType);
      throw new UserError(`${what} has element type ${typeName}; the engine computes in float32 and reads FLOAT, FLOAT16, BFLOAT16 and integer tensors only`);
    }
  }
}

/** IEEE 754 binary16 bits as a number (exactly representable in float32). */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 bits: the upper half of a float32's. */
function bfloat16ToFloat(bits: number): number {
  return new Float32Array(new Uint32Array([bits << 16]).buffer)[0];
}

function checkLength(have: number, want: number, what: string) {
  if (have !== want) throw new UserError(`${what} holds ${have} values but its shape needs ${want}`);
}
