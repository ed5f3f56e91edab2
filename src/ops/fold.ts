// Load-time evaluation of shape computations and constant subgraphs: arithmetic, comparisons and data
// movement on tensors whose values are known before the input arrives (shapes; masks built from them,
// as Swin's attention mask). Anything that depends on the input runs on the GPU. Ops the engine also runs
// (Reshape, Squeeze, Unsqueeze, Flatten, Identity, Concat, Slice, Transpose) fold through their own
// module's shape rule and geometry (OpDef.fold); what remains here are the ops that exist only at load
// time (Shape, Size, ConstantOfShape, Gather, ScatterND, Expand, Cast, arithmetic and comparisons).
import { attrInt, attrString, type Constant, type ConstantData, contiguousStrides, elementCount, type Node, type Shape } from '../graph/ir.js';
import { broadcastShapes, broadcastStrides, nodeError } from './common.js';
import type { OpDef, ShapeContext } from './types.js';

type Lookup = (name: string) => Constant | undefined;

/** ONNX's float element types (FLOAT, FLOAT16, DOUBLE, BFLOAT16), by number and, for Cast-1, by name. */
export const FLOAT_TYPES = new Set<number | string>([1, 10, 11, 16, 'FLOAT', 'FLOAT16', 'DOUBLE']);

/** Ops that run only at load time, on known inputs (no kernel): shape arithmetic, masks, comparisons. */
export const LOAD_TIME_OPS = ['Shape', 'Size', 'ConstantOfShape', 'ScatterND', 'Range', 'Equal', 'Where', 'Not', 'Mod'];

const ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div', 'Mod', 'Equal', 'Where', 'Min', 'Max', 'Neg', 'Floor', 'Ceil', 'Range', 'Not']);

/** The folded outputs of a node that only shape computations use, or undefined when it is not one. */
export function foldLoadTimeNode(node: Node, inputShapes: (Shape | undefined)[], lookup: Lookup): Constant[] | undefined {
  if (node.opType === 'Shape') {
    const shape = inputShapes[0];
    if (!shape) return undefined;
    const start = attrInt(node, 'start', 0);
    const end = node.attributes.has('end') ? attrInt(node, 'end') : shape.length;
    const dims = shape.slice(normAxis(start, shape.length + 1), normAxis(end, shape.length + 1));
    return [{ dtype: 'int64', shape: [dims.length], data: dims }];
  }
  if (node.opType === 'Size' && inputShapes[0]) return [{ dtype: 'int64', shape: [], data: [elementCount(inputShapes[0])] }];
  const inputs = node.inputs.map((n) => (n === '' ? undefined : lookup(n)));
  if (node.inputs.some((n, i) => n !== '' && !inputs[i])) return undefined;
  if (node.opType === 'ConstantOfShape') {
    const dims = inputs[0]!.data as number[];
    const value = node.attributes.get('value') as Constant | undefined;
    const fill = value ? Number(value.data[0]) : 0;
    const dtype = value?.dtype ?? 'float32';
    const count = elementCount(dims);
    return [{ dtype, shape: [...dims], data: dtype === 'float32' ? new Float32Array(count).fill(fill) : new Array<number>(count).fill(fill) }];
  }
  if (node.opType === 'Gather') return [foldGather(node, inputs[0]!, inputs[1]!)];
  if (node.opType === 'ScatterND') return [foldScatterND(node, inputs[0]!, inputs[1]!, inputs[2]!)];
  if (node.opType === 'Expand') return [foldExpand(node, inputs[0]!, ints(inputs[1]))];
  if (node.opType === 'Cast') return [foldCast(node, inputs[0]!)];
  if (ARITHMETIC.has(node.opType)) return [foldArithmetic(node, inputs)];
  return undefined;
}

/**
 * A node of an engine op whose inputs are all load-time constants: a view keeps its input's values
 * under the shape rule's shape, a layout op moves them with its own fold. Undefined when the op computes
 * (float arithmetic runs on the GPU) or an input is not known.
 */
export function foldOpNode(op: OpDef, ctx: ShapeContext, outShapes: Shape[], geometry: unknown): Constant[] | undefined {
  if (!op.view && !op.fold) return undefined;
  const inputs = ctx.node.inputs.map((name, i) => (name === '' ? undefined : ctx.constant(i)));
  if (ctx.node.inputs.some((name, i) => name !== '' && !inputs[i])) return undefined;
  const present = inputs.filter((c): c is Constant => c !== undefined);
  const like = present[0];
  const data = op.fold ? op.fold(present, outShapes, geometry) : [like.data];
  return data.map((values, i) => ({ dtype: like.dtype, shape: outShapes[i], data: values }));
}

/** The CPU twin of the GPU strided copy, for folding: dst[coordinate c] = src[coordinate c] through each side's view. */
export function copyStrided(shape: Shape, src: ConstantData, from: { offset: number; strides: number[] }, dst: number[], to: { offset: number; strides: number[] }): void {
  const count = elementCount(shape);
  const walk = contiguousStrides(shape);
  for (let i = 0; i < count; i++) {
    let read = from.offset;
    let write = to.offset;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(i / walk[d]) % shape[d];
      read += c * from.strides[d];
      write += c * to.strides[d];
    }
    dst[write] = Number(src[read]);
  }
}

/** Values in the input's representation: float32 stays a Float32Array. */
export function like(values: ConstantData, data: number[]): ConstantData {
  return values instanceof Float32Array ? Float32Array.from(data) : data;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function ints(c: Constant | undefined): number[] {
  return c ? Array.from(c.data as ArrayLike<number>) : [];
}

/** Cast of a known tensor: to a float type it stays float32 (the engine's one float type), else integers. */
function foldCast(node: Node, x: Constant): Constant {
  const values = Array.from(x.data as ArrayLike<number>);
  const to = node.attributes.get('to');
  return FLOAT_TYPES.has(to as number | string)
    ? { dtype: 'float32', shape: x.shape, data: Float32Array.from(values) }
    : { dtype: 'int64', shape: x.shape, data: values.map(Math.trunc) };
}

function foldGather(node: Node, x: Constant, idx: Constant): Constant {
  const shape = x.shape;
  const values = Array.from(x.data as ArrayLike<number>);
  const axis = normAxis(attrInt(node, 'axis', 0), shape.length);
  const indices = ints(idx).map((i) => (i < 0 ? i + shape[axis] : i));
  const outer = elementCount(shape.slice(0, axis));
  const inner = elementCount(shape.slice(axis + 1));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i of indices) out.push(...values.slice((o * shape[axis] + i) * inner, (o * shape[axis] + i + 1) * inner));
  }
  return { dtype: x.dtype, shape: [...shape.slice(0, axis), ...idx.shape, ...shape.slice(axis + 1)], data: like(x.data, out) };
}

/**
 * ScatterND of known tensors (Swin's attention mask is built so from its constant shape): a copy of
 * the data with the slices that `indices` names replaced by `updates` (reduction 'none' only).
 */
function foldScatterND(node: Node, data: Constant, indices: Constant, updates: Constant): Constant {
  if (attrString(node, 'reduction', 'none') !== 'none') throw nodeError(node, 'a reduction other than none is not supported');
  const out = Array.from(data.data as ArrayLike<number>);
  const depth = indices.shape[indices.shape.length - 1];
  const slice = elementCount(data.shape.slice(depth));
  const strides = contiguousStrides(data.shape);
  const index = ints(indices);
  const values = Array.from(updates.data as ArrayLike<number>);
  for (let u = 0; u < index.length / depth; u++) {
    let offset = 0;
    for (let d = 0; d < depth; d++) offset += normAxis(index[u * depth + d], data.shape[d]) * strides[d];
    for (let k = 0; k < slice; k++) out[offset + k] = values[u * slice + k];
  }
  return { dtype: data.dtype, shape: data.shape, data: like(data.data, out) };
}

/** Expand of a known tensor: numpy broadcasting against the shape, the values copied. */
function foldExpand(node: Node, x: Constant, target: number[]): Constant {
  const outShape = broadcastShapes(x.shape, target);
  if (!outShape) throw nodeError(node, `cannot expand [${x.shape}] to [${target}]`);
  const out: number[] = [];
  copyStrided(outShape, x.data, { offset: 0, strides: broadcastStrides(x.shape, outShape) }, out, { offset: 0, strides: contiguousStrides(outShape) });
  return { dtype: x.dtype, shape: outShape, data: like(x.data, out) };
}

/**
 * Elementwise arithmetic and comparisons of known tensors with numpy broadcasting: integer results
 * as int64 (Div truncates), float ones rounded to float32 as the GPU would store them; comparisons and
 * Not give 0/1, Where takes its branches' type.
 */
function foldArithmetic(node: Node, inputs: (Constant | undefined)[]): Constant {
  if (node.opType === 'Range') {
    const [start, limit, delta] = inputs.map((c) => ints(c)[0]);
    const out: number[] = [];
    for (let k = 0; k < Math.max(0, Math.ceil((limit - start) / delta)); k++) out.push(start + k * delta);
    const dtype = inputs[0]!.dtype;
    return { dtype, shape: [out.length], data: dtype === 'float32' ? Float32Array.from(out) : out };
  }
  const dtype = node.opType === 'Equal' || node.opType === 'Not' ? 'int64' : (node.opType === 'Where' ? inputs[1] : inputs.find((c) => c?.dtype === 'float32'))?.dtype ?? 'int64';
  const store = (values: number[]): Constant['data'] => (dtype === 'float32' ? Float32Array.from(values) : values);
  const unary: Record<string, (a: number) => number> = { Neg: (a) => -a, Floor: Math.floor, Ceil: Math.ceil, Not: (a) => (a ? 0 : 1) };
  if (unary[node.opType]) {
    return { dtype, shape: inputs[0]!.shape, data: store(ints(inputs[0]).map(unary[node.opType])) };
  }
  const operands = inputs.map((c) => c!);
  const outShape = broadcastShapes(...operands.map((c) => c.shape));
  if (!outShape) throw nodeError(node, `cannot broadcast ${operands.map((c) => `[${c.shape}]`).join(' with ')}`);
  const outStrides = contiguousStrides(outShape);
  const count = elementCount(outShape);
  const strides = operands.map((c) => broadcastStrides(c.shape, outShape));
  const read = (k: number, flat: number) => {
    let offset = 0;
    for (let d = 0; d < outShape.length; d++) offset += (Math.floor(flat / outStrides[d]) % outShape[d]) * strides[k][d];
    return Number(operands[k].data[offset]);
  };
  const fn: Record<string, (v: number[]) => number> = {
    Add: ([a, b]) => a + b,
    Sub: ([a, b]) => a - b,
    Mul: ([a, b]) => a * b,
    Div: ([a, b]) => (dtype === 'float32' ? a / b : Math.trunc(a / b)),
    // fmod=0 takes the divisor's sign (Python's %), fmod=1 the dividend's (C's fmod).
    Mod: ([a, b]) => (attrInt(node, 'fmod', 0) ? a % b : ((a % b) + b) % b),
    Equal: ([a, b]) => (a === b ? 1 : 0),
    Min: (v) => Math.min(...v),
    Max: (v) => Math.max(...v),
    Where: ([c, a, b]) => (c ? a : b),
  };
  const out = Array.from({ length: count }, (_, i) => fn[node.opType](operands.map((_, k) => read(k, i))));
  return { dtype, shape: outShape, data: store(out) };
}
