// Flatten, Reshape, Squeeze and Unsqueeze: the output is the input's data under another shape, so the
// forward pass shares the input's buffer and runs nothing; the backward pass copies dY into dX.
import { attrInt, attrInts, elementCount, type Node, type Shape } from '../graph/ir.js';
import { constantInts, copyGradient, nodeError, normalizeAxis } from './common.js';
import type { OpDef, ShapeContext } from './types.js';

/** Reshape's target shape: 0 copies the input dim, -1 takes what is left. */
function resolveReshape(inShape: Shape, target: number[], node: Node): Shape {
  const total = elementCount(inShape);
  const out = target.map((d, i) => (d === 0 ? inShape[i] : d));
  const unknown = out.indexOf(-1);
  if (unknown >= 0) {
    const known = out.reduce((p, d, i) => (i === unknown ? p : p * d), 1);
    out[unknown] = known > 0 ? total / known : 0;
  }
  if (elementCount(out) !== total || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw nodeError(node, `cannot reshape [${inShape}] to [${target}]`);
  }
  return out;
}

function viewOp(versions: Record<string, number[]>, outputShape: (ctx: ShapeContext) => Shape): OpDef {
  return { versions, view: true, dataInputs: [0], inferShapes: (ctx) => [outputShape(ctx)], forward() {}, backward: copyGradient };
}

/** Squeeze and Unsqueeze take axes as an attribute before opset 13 and as an input from then on. */
function axesOf(ctx: ShapeContext): number[] | undefined {
  if (ctx.opset < 13) return attrInts(ctx.node, 'axes');
  return ctx.node.inputs[1] ? constantInts(ctx.node, ctx.constant(1), 'axes') : undefined;
}

export const flatten = viewOp({ Flatten: [1, 9, 11, 13, 21] }, ({ node, inputShapes }) => {
  const shape = inputShapes[0]!;
  // Flatten's axis runs from -rank to rank: a negative one counts from the back of the input's rank
  // (-1 keeps the last dimension apart), and rank itself puts everything in the first dimension.
  const given = attrInt(node, 'axis', 1);
  if (given < -shape.length || given > shape.length) throw nodeError(node, `axis ${given} is out of range for rank ${shape.length}`);
  const axis = given < 0 ? given + shape.length : given;
  return [elementCount(shape.slice(0, axis)), elementCount(shape.slice(axis))];
});

export const reshape = viewOp({ Reshape: [1, 5, 13, 14, 19, 21] }, ({ node, opset, inputShapes, constant }) => {
  const target = opset < 5 ? attrInts(node, 'shape') ?? [] : constantInts(node, constant(1), 'the target shape');
  if (attrInt(node, 'allowzero', 0) !== 0 && target.includes(0)) throw nodeError(node, 'allowzero with a 0 in the shape would make an empty tensor');
  return resolveReshape(inputShapes[0]!, target, node);
});

export const squeeze = viewOp({ Squeeze: [1, 11, 13, 21] }, (ctx) => {
  const { node } = ctx;
  const shape = ctx.inputShapes[0]!;
  const axes = axesOf(ctx)?.map((a) => normalizeAxis(node, a, shape.length));
  for (const a of axes ?? []) if (shape[a] !== 1) throw nodeError(node, `cannot squeeze axis ${a} of [${shape}]: its size is not 1`);
  return shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
});

export const unsqueeze = viewOp({ Unsqueeze: [1, 11, 13, 21] }, (ctx) => {
  const { node } = ctx;
  const shape = ctx.inputShapes[0]!;
  const given = axesOf(ctx);
  if (!given) throw nodeError(node, 'axes are missing');
  const rank = shape.length + given.length;
  const axes = given.map((a) => normalizeAxis(node, a, rank)).sort((a, b) => a - b);
  if (new Set(axes).size !== axes.length) throw nodeError(node, `axes [${given}] repeat an axis`);
  const out = [...shape];
  for (const a of axes) out.splice(a, 0, 1);
  return out;
});
