// Load-time evaluation of shape computations: integer arithmetic and data movement on tensors whose
// values are known before the input arrives. Float arithmetic is never folded here: it runs on the GPU.
// Ops the engine also runs (Reshape, Squeeze, Unsqueeze, Flatten, Identity, Concat, Slice, Transpose)
// fold through their own module's shape rule and geometry (OpDef.fold); what remains here are the ops
// that exist only at load time (Shape, Size, ConstantOfShape, Gather, Cast, integer arithmetic).
import { attrInt, type Constant, type ConstantData, contiguousStrides, elementCount, type Node, type Shape } from '../graph/ir.js';
import type { OpDef, ShapeContext } from './types.js';

type Lookup = (name: string) => Constant | undefined;

const INT_ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div', 'Equal', 'Where', 'Min', 'Max', 'Neg', 'Floor', 'Ceil', 'Range', 'Not']);

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
  if (node.opType === 'Cast') return [foldCast(node, inputs[0]!)];
  if (INT_ARITHMETIC.has(node.opType) && inputs.every((c) => !c || c.dtype === 'int64')) return [foldIntArithmetic(node, inputs)];
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

function foldCast(node: Node, x: Constant): Constant {
  const values = Array.from(x.data as ArrayLike<number>);
  return attrInt(node, 'to') === 1
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

function foldIntArithmetic(node: Node, inputs: (Constant | undefined)[]): Constant {
  if (node.opType === 'Range') {
    const [start, limit, delta] = inputs.map((c) => ints(c)[0]);
    const out: number[] = [];
    for (let v = start; delta > 0 ? v < limit : v > limit; v += delta) out.push(v);
    return { dtype: 'int64', shape: [out.length], data: out };
  }
  const unary: Record<string, (a: number) => number> = { Neg: (a) => -a, Floor: Math.floor, Ceil: Math.ceil, Not: (a) => (a ? 0 : 1) };
  if (unary[node.opType]) {
    return { dtype: 'int64', shape: inputs[0]!.shape, data: ints(inputs[0]).map(unary[node.opType]) };
  }
  const operands = inputs.map((c) => c!);
  const rank = Math.max(...operands.map((c) => c.shape.length));
  const padded = operands.map((c) => [...new Array<number>(rank - c.shape.length).fill(1), ...c.shape]);
  const outShape = Array.from({ length: rank }, (_, d) => Math.max(...padded.map((s) => s[d])));
  const outStrides = contiguousStrides(outShape);
  const count = elementCount(outShape);
  const read = (k: number, flat: number) => {
    const s = padded[k];
    const strides = contiguousStrides(s);
    let offset = 0;
    for (let d = 0; d < rank; d++) offset += (s[d] === 1 ? 0 : Math.floor(flat / outStrides[d]) % outShape[d]) * strides[d];
    return Number(operands[k].data[offset]);
  };
  const fn: Record<string, (v: number[]) => number> = {
    Add: ([a, b]) => a + b,
    Sub: ([a, b]) => a - b,
    Mul: ([a, b]) => a * b,
    Div: ([a, b]) => Math.trunc(a / b),
    Equal: ([a, b]) => (a === b ? 1 : 0),
    Min: (v) => Math.min(...v),
    Max: (v) => Math.max(...v),
    Where: ([c, a, b]) => (c ? a : b),
  };
  const out = Array.from({ length: count }, (_, i) => fn[node.opType](operands.map((_, k) => read(k, i))));
  return { dtype: 'int64', shape: outShape, data: out };
}
