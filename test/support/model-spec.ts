// Builds small ONNX models in memory from a plain description, for tests of cases the generated
// fixtures do not show (tie-breaking, edge windows, rejected attributes): several inputs and outputs,
// and string and float attributes.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const AttrType = onnx.AttributeProto.AttributeType;

/** Integers become INT(S), strings STRING, and { float } FLOAT (an integer-valued float stays a float). */
export type AttributeSpec = number | number[] | string | { float: number };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeSpec>;
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: { name: string; shape: number[] }[];
  outputs: string[];
  initializers?: Record<string, { shape: number[]; data: number[] }>;
  opset?: number;
}

function attribute(name: string, value: AttributeSpec): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttrType.INTS, ints: value };
  if (typeof value === 'number') return { name, type: AttrType.INT, i: value };
  return { name, type: AttrType.FLOAT, f: value.float };
}

export function modelFromSpec(spec: ModelSpec): Uint8Array {
  const tensorType = (shape: number[]) => ({
    tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } },
  });
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      node: spec.nodes.map((n, i) => ({
        name: `${n.opType}_${i}`,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      input: spec.inputs.map((i) => ({ name: i.name, type: tensorType(i.shape) })),
      output: spec.outputs.map((name) => ({ name })),
      initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) => ({
        name,
        dims: t.shape,
        dataType: onnx.TensorProto.DataType.FLOAT,
        floatData: t.data,
      })),
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

/**
 * features = Relu(x) (the layer to explain) -> GlobalAveragePool -> Flatten -> Gemm with `weights`
 * [classes, channels] and an optional bias: the smallest head that Grad-CAM and CAM both apply to.
 */
export function poolingHeadModel(inputShape: number[], weights: number[][], bias?: number[]): Uint8Array {
  return modelFromSpec({
    inputs: [{ name: 'x', shape: inputShape }],
    outputs: ['scores'],
    nodes: [
      { opType: 'Relu', inputs: ['x'], outputs: ['features'] },
      { opType: 'GlobalAveragePool', inputs: ['features'], outputs: ['pooled'] },
      { opType: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { opType: 'Gemm', inputs: ['flat', 'w', ...(bias ? ['b'] : [])], outputs: ['scores'], attributes: { transB: 1 } },
    ],
    initializers: {
      w: { shape: [weights.length, weights[0].length], data: weights.flat() },
      ...(bias ? { b: { shape: [bias.length], data: bias } } : {}),
    },
  });
}

/**
 * features = Relu(x) (the layer to explain) -> Add shift -> Relu (a decision between the layer and
 * the score) -> GlobalAveragePool -> Flatten -> Gemm with `weights` [classes, channels]: every unit of
 * the second Relu receives gradient, so a feature of -shift puts that ReLU's input on its kink.
 */
export function shiftedReluModel(inputShape: number[], shift: number, weights: number[][]): Uint8Array {
  return modelFromSpec({
    inputs: [{ name: 'x', shape: inputShape }],
    outputs: ['scores'],
    nodes: [
      { opType: 'Relu', inputs: ['x'], outputs: ['features'] },
      { opType: 'Add', inputs: ['features', 'shift'], outputs: ['shifted'] },
      { opType: 'Relu', inputs: ['shifted'], outputs: ['decided'] },
      { opType: 'GlobalAveragePool', inputs: ['decided'], outputs: ['pooled'] },
      { opType: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { opType: 'Gemm', inputs: ['flat', 'w'], outputs: ['scores'], attributes: { transB: 1 } },
    ],
    initializers: { shift: { shape: [1], data: [shift] }, w: { shape: [weights.length, weights[0].length], data: weights.flat() } },
  });
}
