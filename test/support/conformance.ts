// ONNX's own backend conformance tests (Debian's libonnx-testdata): each test a model.onnx and
// test_data_set_0/{input,output}_N.pb. This module finds the tests whose ops all belong to the CNN op set
// (issue 21's list), runs one through the engine's forward pass and compares it with ONNX's expected
// outputs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { GpuContext } from '../../src/gpu/context.js';
import { UserError } from '../../src/errors.js';
import { decodeTensorProto } from '../../src/onnx/load.js';
import { Model, type Tensor } from '../../src/runtime/model.js';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;

export const CONFORMANCE_ROOT = '/usr/share/libonnx-testdata/data';
export const SUITES = ['node', 'pytorch-converted', 'pytorch-operator'];

/** The op set a CNN explainer must run (issue 21): a test using any other op is out of scope. */
export const CNN_OPS = new Set(
  `Abs Add AveragePool BatchNormalization Cast CastLike Ceil Celu Clip Concat Constant ConstantOfShape Conv
  ConvTranspose DepthToSpace SpaceToDepth Div Dropout Elu Erf Exp Expand Flatten Floor Gather Gelu Gemm
  GlobalAveragePool GlobalMaxPool GroupNormalization HardSigmoid HardSwish Identity InstanceNormalization
  LayerNormalization LeakyRelu Log LogSoftmax LRN MatMul Max Min Mean Sum MaxPool MeanVarianceNormalization
  Mish Mul Neg Pad Pow PRelu Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean
  ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize Upsample Selu Shape Sigmoid Slice Softmax
  Softplus Softsign Split Sqrt Squeeze Sub Tanh ThresholdedRelu Tile Transpose Unsqueeze`.split(/\s+/),
);

export interface ConformanceCase {
  /** suite/test, e.g. node/test_relu. */
  id: string;
  dir: string;
  opset: number;
  ops: string[];
  /** Why the test is not one the engine must pass (an op outside the set, a non-float tensor); else undefined. */
  outOfScope?: string;
}

export function conformanceAvailable(): boolean {
  return existsSync(join(CONFORMANCE_ROOT, 'node'));
}

export function conformanceCases(): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  for (const suite of SUITES) {
    const root = join(CONFORMANCE_ROOT, suite);
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (!existsSync(join(dir, 'model.onnx'))) continue;
      const model = onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
      const graph = model.graph!;
      const ops = [...new Set((graph.node ?? []).map((n) => (n.domain ? `${n.domain}::${n.opType}` : n.opType ?? '')))].sort();
      const opset = Number((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
      cases.push({ id: `${suite}/${name}`, dir, opset, ops, outOfScope: scopeReason(graph, ops, dir) });
    }
  }
  return cases;
}

function typeName(t: number): string {
  return DataType[t] ?? String(t);
}

function scopeReason(graph: onnxProto.onnx.IGraphProto, ops: string[], dir: string): string | undefined {
  const outside = ops.filter((op) => !CNN_OPS.has(op));
  if (outside.length) return `op ${outside.join(', ')} outside the CNN op set`;
  if (!existsSync(join(dir, 'test_data_set_0'))) return 'no test data';
  const initializers = new Set((graph.initializer ?? []).map((i) => i.name));
  for (const output of graph.output ?? []) {
    const t = output.type?.tensorType?.elemType ?? 0;
    if (t !== DataType.FLOAT) return `output "${output.name}" is ${typeName(t)}, not FLOAT`;
  }
  for (const input of graph.input ?? []) {
    if (initializers.has(input.name)) continue;
    const t = input.type?.tensorType?.elemType ?? 0;
    // Integer inputs are shapes, axes or indices: the harness binds them as constants (see runCase).
    if (t !== DataType.FLOAT && t !== DataType.INT64 && t !== DataType.INT32) return `input "${input.name}" is ${typeName(t)}`;
  }
  return undefined;
}

export type Outcome =
  | { status: 'pass'; error: number }
  | { status: 'refused'; message: string }
  | { status: 'wrong'; message: string };

/**
 * ONNX's expected outputs are float32 results of NumPy (often computed in float64 and rounded); the
 * engine computes in float32 with other summation orders. Over these tests' reductions (at most a few
 * thousand terms of O(1) values) float32 rounding stays near 1e-6 relative; 1e-4 of (1 + |expected|)
 * leaves two orders of margin while any formula or indexing error shows at O(1).
 */
export const CONFORMANCE_TOLERANCE = 1e-4;

/**
 * Float inputs that are settings of the op rather than data (attributes that became inputs: Resize's
 * roi and scales, Upsample's scales, Clip's bounds, Pad's value). Exported models hold them as
 * constants, and the engine reads them at load time.
 */
const SETTING_INPUTS: Record<string, number[]> = { Resize: [1, 2, 3], Upsample: [1], Clip: [1, 2], Pad: [2] };

/** Whether graph input `name` feeds only setting slots. */
function isSetting(graph: onnxProto.onnx.IGraphProto, name: string): boolean {
  const uses = (graph.node ?? []).flatMap((n) => (n.input ?? []).map((input, slot) => ({ input, slot, op: n.opType ?? '' }))).filter((u) => u.input === name);
  return uses.length > 0 && uses.every((u) => SETTING_INPUTS[u.op]?.includes(u.slot));
}

/**
 * Runs a test's model on its first data set. Integer graph inputs (shapes, axes, indices given as
 * inputs by the test) and float inputs that are op settings (SETTING_INPUTS) are bound as initializers
 * first: the engine computes float tensors and reads shapes and settings at load time, as it does for an
 * exported model whose shapes and settings are constants.
 */
export async function runCase(gpu: GpuContext, c: ConformanceCase): Promise<Outcome> {
  const data = join(c.dir, 'test_data_set_0');
  const model = onnx.ModelProto.decode(readFileSync(join(c.dir, 'model.onnx')));
  const graph = model.graph!;
  const initializers = new Set((graph.initializer ?? []).map((i) => i.name));
  const runtimeInputs = (graph.input ?? []).filter((i) => !initializers.has(i.name));
  const inputs = new Map<string, Tensor>();
  runtimeInputs.forEach((input, i) => {
    const bytes = readFileSync(join(data, `input_${i}.pb`));
    if (input.type?.tensorType?.elemType === DataType.FLOAT && !isSetting(graph, input.name!)) {
      const t = decodeTensorProto(bytes, `input_${i}.pb`);
      inputs.set(input.name!, { shape: t.shape, data: t.data as Float32Array });
    } else {
      const tensor = onnx.TensorProto.decode(bytes);
      tensor.name = input.name!;
      graph.initializer = [...(graph.initializer ?? []), tensor];
    }
  });
  graph.input = runtimeInputs.filter((i) => inputs.has(i.name!));

  let engine: Model | undefined;
  try {
    engine = Model.fromBytes(gpu, onnx.ModelProto.encode(model).finish(), c.id);
    const outputs = await engine.run(inputs);
    let worst = 0;
    for (const [i, name] of engine.graph.outputs.entries()) {
      const want = decodeTensorProto(readFileSync(join(data, `output_${i}.pb`)), `output_${i}.pb`);
      const got = outputs.get(name)!;
      if (got.shape.join(',') !== want.shape.join(',')) {
        return { status: 'wrong', message: `output ${name} has shape [${got.shape}], expected [${want.shape}]` };
      }
      for (let k = 0; k < got.data.length; k++) {
        const w = Number(want.data[k]);
        const diff = Math.abs(got.data[k] - w) / (1 + Math.abs(w));
        const same = got.data[k] === w || (Number.isNaN(w) && Number.isNaN(got.data[k]));
        if (!same && !(diff <= CONFORMANCE_TOLERANCE)) {
          return { status: 'wrong', message: `output ${name}[${k}] is ${got.data[k]}, expected ${w}` };
        }
        if (!same) worst = Math.max(worst, diff);
      }
    }
    return { status: 'pass', error: worst };
  } catch (e) {
    if (e instanceof UserError) return { status: 'refused', message: e.message };
    return { status: 'wrong', message: `not a UserError: ${(e as Error).stack ?? e}` };
  } finally {
    engine?.dispose();
  }
}
