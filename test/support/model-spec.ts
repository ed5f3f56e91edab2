// The one builder of small in-memory models for tests of cases the generated fixtures do not show
// (tie-breaking, edge windows, broadcasting, rejected attributes): a plain description encoded as ONNX
// bytes, and, through the engine's own loader, as the graph IR the planner takes.
import onnxProto from 'onnx-proto';
import type { Graph, Shape } from '../../src/graph/ir.js';
import { loadOnnx } from '../../src/onnx/load.js';
import { MAX_OPSET, MIN_OPSET } from '../../src/onnx/versions.js';

const { onnx } = onnxProto;
const AttrType = onnx.AttributeProto.AttributeType;
const DataType = onnx.TensorProto.DataType;

/** Whole numbers become INT, other numbers FLOAT, lists INTS, strings STRING, { float } FLOAT always. */
export type AttributeSpec = number | number[] | string | { float: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  /** Default: ["y"] for the last node, [`t<i>`] for node i before it. */
  outputs?: string[];
  attributes?: Record<string, AttributeSpec>;
  /** Default: the op type in lower case and the node's index ("maxpool0"). */
  name?: string;
}

export interface InitializerSpec {
  shape: Shape;
  data: ArrayLike<number>;
  /** Default float. */
  type?: 'float' | 'int64' | 'bool';
}

export interface GraphSpec {
  inputs: Record<string, Shape>;
  nodes: NodeSpec[];
  /** Default: the last node's first output. */
  outputs?: string[];
  initializers?: Record<string, InitializerSpec>;
  opset?: number;
}

export const floats = (shape: Shape, data: ArrayLike<number>): InitializerSpec => ({ shape, data });
export const int64s = (data: number[]): InitializerSpec => ({ shape: [data.length], data, type: 'int64' });

function attribute(name: string, value: AttributeSpec): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttrType.INTS, ints: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { name, type: AttrType.INT, i: value } : { name, type: AttrType.FLOAT, f: value };
  return { name, type: AttrType.FLOAT, f: value.float };
}

function initializer(name: string, t: InitializerSpec): onnxProto.onnx.ITensorProto {
  const data = Array.from(t.data);
  if (t.type === 'int64') return { name, dims: t.shape, dataType: DataType.INT64, int64Data: data };
  if (t.type === 'bool') return { name, dims: t.shape, dataType: DataType.BOOL, int32Data: data };
  return { name, dims: t.shape, dataType: DataType.FLOAT, floatData: data };
}

const outputsOf = (spec: GraphSpec, i: number) => spec.nodes[i].outputs ?? (i === spec.nodes.length - 1 ? ['y'] : [`t${i}`]);

export function onnxOf(spec: GraphSpec): Uint8Array {
  const tensorType = (shape: Shape) => ({ tensorType: { elemType: DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } });
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `${n.op.toLowerCase()}${i}`,
        opType: n.op,
        input: n.inputs,
        output: outputsOf(spec, i),
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      input: Object.entries(spec.inputs).map(([name, shape]) => ({ name, type: tensorType(shape) })),
      output: (spec.outputs ?? [outputsOf(spec, spec.nodes.length - 1)[0]]).map((name) => ({ name })),
      initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) => initializer(name, t)),
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The graph IR of `spec`, read back by the engine's ONNX loader. The op modules also take forms of
 * opsets the loader does not admit (opset 2's Pad attributes, opset 18's axes inputs); for those the
 * model is loaded at the nearest admitted opset and the graph then carries the one asked for.
 */
export function graphOf(spec: GraphSpec): Graph {
  const opset = spec.opset ?? 13;
  const admitted = Math.min(Math.max(opset, MIN_OPSET), MAX_OPSET);
  return { ...loadOnnx(onnxOf({ ...spec, opset: admitted }), 'test model'), opset };
}

/**
 * features = Relu(x) (the layer to explain) -> GlobalAveragePool -> Flatten -> Gemm with `weights`
 * [classes, channels] and an optional bias: the smallest head that Grad-CAM and CAM both apply to.
 */
export function poolingHeadModel(inputShape: Shape, weights: number[][], bias?: number[]): Uint8Array {
  return onnxOf({
    inputs: { x: inputShape },
    outputs: ['scores'],
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['features'] },
      { op: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'w', ...(bias ? ['b'] : [])], outputs: ['scores'], attributes: { transB: 1 } },
    ],
    initializers: {
      w: floats([weights.length, weights[0].length], weights.flat()),
      ...(bias ? { b: floats([bias.length], bias) } : {}),
    },
  });
}

/**
 * features = Relu(x) (the layer to explain) -> Add shift -> Relu (a decision between the layer and
 * the score) -> GlobalAveragePool -> Flatten -> Gemm with `weights` [classes, channels]: every unit of
 * the second Relu receives gradient, so a feature of -shift puts that ReLU's input on its kink.
 */
export function shiftedReluModel(inputShape: Shape, shift: number, weights: number[][]): Uint8Array {
  return onnxOf({
    inputs: { x: inputShape },
    outputs: ['scores'],
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['features'] },
      { op: 'Add', inputs: ['features', 'shift'], outputs: ['shifted'] },
      { op: 'Relu', inputs: ['shifted'], outputs: ['decided'] },
      { op: 'GlobalAveragePool', inputs: ['decided'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'Gemm', inputs: ['flat', 'w'], outputs: ['scores'], attributes: { transB: 1 } },
    ],
    initializers: { shift: floats([1], [shift]), w: floats([weights.length, weights[0].length], weights.flat()) },
  });
}
