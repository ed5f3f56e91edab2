// Load-time evaluation of shape computations: integer arithmetic and data movement on tensors whose
// values are known before the input arrives. Float arithmetic is never folded here: it runs on the GPU.
import { attrInt, attrInts, type Constant, elementCount, type Node, type Shape } from './ir.js';
import { UserError } from '../errors.js';

type Lookup = (name: string) => Constant | undefined;

const STRUCTURAL = new Set(['Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Reshape', 'Identity', 'Cast', 'Transpose', 'Flatten']);
const INT_ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div', 'Equal', 'Where', 'Min', 'Max', 'Neg', 'Floor', 'Ceil', 'Range', 'Not']);

/** The folded outputs of `node`, or undefined when it has to run on the GPU. */
export function foldNode(node: Node, inputShapes: (Shape | undefined)[], lookup: Lookup, opset: number): Constant[] | undefined {
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
  const allInt = inputs.every((c) => !c || c.dtype === 'int64');
  if (STRUCTURAL.has(node.opType)) return [foldStructural(node, inputs, opset)];
  if (INT_ARITHMETIC.has(node.opType) && allInt) return [foldIntArithmetic(node, inputs)];
  return undefined;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

function make(like: Constant, shape: Shape, values: number[]): Constant {
  return like.dtype === 'float32' ? { dtype: 'float32', shape, data: Float32Array.from(values) } : { dtype: 'int64', shape, data: values };
}

function ints(c: Constant | undefined): number[] {
  return c ? Array.from(c.data as ArrayLike<number>) : [];
}

function axesOf(node: Node, inputs: (Constant | undefined)[], opset: number, changedAt: number): number[] | undefined {
  return opset >= changedAt ? (inputs[1] ? ints(inputs[1]) : undefined) : attrInts(node, 'axes');
}

function foldStructural(node: Node, inputs: (Constant | undefined)[], opset: number): Constant {
  const x = inputs[0]!;
  const values = Array.from(x.data as ArrayLike<number>);
  const shape = x.shape;
  switch (node.opType) {
    case 'Identity':
      return x;
    case 'Cast': {
      const to = attrInt(node, 'to');
      return to === 1 ? { dtype: 'float32', shape, data: Float32Array.from(values) } : { dtype: 'int64', shape, data: values.map(Math.trunc) };
    }
    case 'Unsqueeze': {
      const axes = axesOf(node, inputs, opset, 13) ?? [];
      const out = [...shape];
      const rank = shape.length + axes.length;
      for (const a of axes.map((a) => normAxis(a, rank)).sort((a, b) => a - b)) out.splice(a, 0, 1);
      return make(x, out, values);
    }
    case 'Squeeze': {
      const axes = (axesOf(node, inputs, opset, 13) ?? shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) =>
        normAxis(a, shape.length),
      );
      return make(x, shape.filter((_, i) => !axes.includes(i)), values);
    }
    case 'Flatten': {
      const axis = normAxis(attrInt(node, 'axis', 1), shape.length);
      return make(x, [elementCount(shape.slice(0, axis)), elementCount(shape.slice(axis))], values);
    }
    case 'Reshape':
      return make(x, resolveReshape(shape, ints(inputs[1]), node), values);
    case 'Concat': {
      const parts = inputs.filter((c): c is Constant => !!c && elementCount(c.shape) > 0);
      const axis = normAxis(attrInt(node, 'axis'), parts[0].shape.length);
      const outer = elementCount(parts[0].shape.slice(0, axis));
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const inner = elementCount(p.shape.slice(axis));
          out.push(...Array.from(p.data as ArrayLike<number>).slice(o * inner, (o + 1) * inner));
        }
      }
      const outShape = [...parts[0].shape];
      outShape[axis] = parts.reduce((s, p) => s + p.shape[axis], 0);
      return make(parts[0], outShape, out);
    }
    case 'Gather': {
      const axis = normAxis(attrInt(node, 'axis', 0), shape.length);
      const idx = inputs[1]!;
      const indices = ints(idx).map((i) => (i < 0 ? i + shape[axis] : i));
      const outer = elementCount(shape.slice(0, axis));
      const inner = elementCount(shape.slice(axis + 1));
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const i of indices) out.push(...values.slice((o * shape[axis] + i) * inner, (o * shape[axis] + i + 1) * inner));
      }
      return make(x, [...shape.slice(0, axis), ...idx.shape, ...shape.slice(axis + 1)], out);
    }
    case 'Transpose': {
      const perm = attrInts(node, 'perm') ?? shape.map((_, i) => shape.length - 1 - i);
      const outShape = perm.map((p) => shape[p]);
      const inStrides = stridesOf(shape);
      const outStrides = stridesOf(outShape);
      const out = new Array<number>(values.length);
      for (let i = 0; i < values.length; i++) {
        let rest = i;
        let src = 0;
        for (let d = 0; d < outShape.length; d++) {
          const coord = Math.floor(rest / outStrides[d]);
          rest -= coord * outStrides[d];
          src += coord * inStrides[perm[d]];
        }
        out[i] = values[src];
      }
      return make(x, outShape, out);
    }
    case 'Slice': {
      const starts = opset >= 10 ? ints(inputs[1]) : attrInts(node, 'starts')!;
      const ends = opset >= 10 ? ints(inputs[2]) : attrInts(node, 'ends')!;
      const axes = (opset >= 10 ? (inputs[3] ? ints(inputs[3]) : undefined) : attrInts(node, 'axes')) ?? starts.map((_, i) => i);
      const steps = opset >= 10 && inputs[4] ? ints(inputs[4]) : starts.map(() => 1);
      const ranges = shape.map((d) => ({ start: 0, step: 1, count: d }));
      axes.forEach((a, i) => {
        const axis = normAxis(a, shape.length);
        ranges[axis] = sliceRange(shape[axis], starts[i], ends[i], steps[i]);
      });
      const strides = stridesOf(shape);
      const outShape = ranges.map((r) => r.count);
      const out: number[] = [];
      const walk = (d: number, offset: number) => {
        if (d === shape.length) return void out.push(values[offset]);
        for (let k = 0; k < ranges[d].count; k++) walk(d + 1, offset + (ranges[d].start + k * ranges[d].step) * strides[d]);
      };
      if (elementCount(outShape) > 0) walk(0, 0);
      return make(x, outShape, out);
    }
    default:
      throw new Error(`unreachable: fold ${node.opType}`);
  }
}

/** ONNX Slice semantics for one axis: clamped start/end, any non-zero step. */
export function sliceRange(dim: number, start: number, end: number, step: number): { start: number; step: number; count: number } {
  if (step === 0) throw new UserError('Slice step cannot be 0');
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
  } else {
    s = clamp(s, -1, dim - 1);
    e = clamp(e, -1, dim - 1);
  }
  const count = Math.max(0, Math.ceil((e - s) / step));
  return { start: s, step, count };
}

/** Reshape's target shape: 0 copies the input dim, -1 takes what is left. */
export function resolveReshape(inShape: Shape, target: number[], node: Node): Shape {
  const total = elementCount(inShape);
  const out = target.map((d, i) => (d === 0 ? inShape[i] : d));
  const unknown = out.indexOf(-1);
  if (unknown >= 0) {
    const known = out.reduce((p, d, i) => (i === unknown ? p : p * d), 1);
    out[unknown] = known > 0 ? total / known : 0;
  }
  if (elementCount(out) !== total || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new UserError(`${node.opType} node "${node.name}": cannot reshape [${inShape}] to [${target}]`);
  }
  return out;
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
  const outStrides = stridesOf(outShape);
  const count = elementCount(outShape);
  const read = (k: number, flat: number) => {
    const s = padded[k];
    const strides = stridesOf(s);
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
