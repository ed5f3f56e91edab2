// Split (any axis, any number of outputs): sizes from the 'split' attribute (opset < 13), the 'split'
// input (opset >= 13), 'num_outputs' (opset 18) or equal parts. Each output is a strided copy of its
// slab of the input; backward assembles dX from the outputs' gradients, zeros where none flows.
import { linearTangent } from './tangent.js';
import { attrInt, attrInts, type Constant, type Node, type Shape, contiguousStrides } from '../graph/ir.js';
import { constantInts, contiguousView, nodeError, normalizeAxis, requireRank, stridedCopy, zeros } from './common.js';
import type { BackwardContext, OpDef } from './types.js';

function sizesOf(node: Node, opset: number, dim: number, splitInput: Constant | undefined): number[] {
  const parts = node.outputs.length;
  let sizes: number[] | undefined;
  if (opset < 13) sizes = attrInts(node, 'split');
  else if (node.inputs[1]) sizes = constantInts(node, splitInput, "the 'split' input");
  if (!sizes && node.attributes.has('num_outputs')) {
    // Opset 18: equal parts of ceil(dim / n), the last one smaller.
    const each = Math.ceil(dim / attrInt(node, 'num_outputs'));
    sizes = Array.from({ length: parts }, (_, i) => Math.min(each, dim - i * each));
  }
  if (!sizes) {
    if (dim % parts !== 0) throw nodeError(node, `cannot split ${dim} into ${parts} equal parts`);
    sizes = new Array<number>(parts).fill(dim / parts);
  }
  if (sizes.length !== parts || sizes.reduce((a, b) => a + b, 0) !== dim || sizes.some((s) => s <= 0)) {
    throw nodeError(node, `split [${sizes}] does not divide ${dim} into ${parts} outputs`);
  }
  return sizes;
}

interface SplitLayout {
  axis: number;
  /** Where each output starts along the axis. */
  starts: number[];
  outShapes: Shape[];
}

function layout(node: Node, opset: number, shape: Shape, splitInput: Constant | undefined): SplitLayout {
  requireRank(node, shape);
  const axis = normalizeAxis(node, attrInt(node, 'axis', 0), shape.length);
  const sizes = sizesOf(node, opset, shape[axis], splitInput);
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const outShapes = sizes.map((s) => shape.map((d, i) => (i === axis ? s : d)));
  return { axis, starts, outShapes };
}

export const split: OpDef<SplitLayout> = {
  versions: { Split: [1, 2, 11, 13, 18] },
  dataInputs: [0],
  geometry: ({ node, opset, inputShapes, constant }) => layout(node, opset, inputShapes[0]!, constant(1)),
  inferShapes: (_, g) => g.outShapes,

  forward(ctx) {
    const x = ctx.inputs[0]!;
    const { axis, starts } = ctx.geometry;
    const strides = contiguousStrides(x.shape);
    ctx.outputs.forEach((y, i) => {
      stridedCopy(ctx, y.shape, { ref: x.ref, offset: starts[i] * strides[axis], strides }, contiguousView(y.ref), false);
    });
  },

  tangent: (ctx) => linearTangent(ctx, split.forward, { linear: [0] }),

  backward(ctx: BackwardContext<SplitLayout>) {
    const dx = ctx.gradInput(0);
    if (!dx) return;
    const x = ctx.inputs[0]!;
    const { axis, starts } = ctx.geometry;
    const strides = contiguousStrides(x.shape);
    ctx.outputs.forEach((y, i) => {
      const slab = { ref: dx.ref, offset: starts[i] * strides[axis], strides };
      const dy = ctx.gradOutput(i);
      if (dy) stridedCopy(ctx, y.shape, contiguousView(dy), slab, dx.accumulate);
      // An output nothing depends on adds nothing, but a first contribution must still clear its slab.
      else if (!dx.accumulate) stridedCopy(ctx, y.shape, zeros(ctx, y.shape.length), slab, false);
    });
  },
};
