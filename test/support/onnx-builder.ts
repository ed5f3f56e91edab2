// Builds small ONNX models in tests, for behaviour that needs a graph of a particular shape (e.g. a map
// that the ReLU turns all to zero). Weights are given explicitly, so expected results follow by hand.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | number[]>;
}

export function buildModel(spec: {
  input: { name: string; shape: number[] };
  output: string;
  nodes: NodeSpec[];
  initializers: Record<string, { shape: number[]; data: number[] }>;
  opset?: number;
}): Uint8Array {
  const valueInfo = (name: string, shape: number[]) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      input: [valueInfo(spec.input.name, spec.input.shape)],
      output: [{ name: spec.output }],
      initializer: Object.entries(spec.initializers).map(([name, t]) => ({
        name,
        dims: t.shape,
        dataType: onnx.TensorProto.DataType.FLOAT,
        floatData: t.data,
      })),
      node: spec.nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([name, v]) =>
          Array.isArray(v)
            ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
            : { name, type: onnx.AttributeProto.AttributeType.INT, i: v },
        ),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
