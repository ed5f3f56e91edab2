// Concat (any axis, any number of inputs): one strided copy per input into its slab of the output;
// backward copies each slab of dY back out.
import { attrInt, elementCount, type Node, type Shape, contiguousStrides } from '../graph/ir.js';
import { contiguousView, nodeError, normalizeAxis, requireRank, stridedCopy } from './common.js';
import type { BackwardContext, OpDef } from './types.js';

/** The concatenation axis and where each input starts along it. */
function layout(node: Node, shapes: (Shape | undefined)[]): { axis: number; starts: number[]; outShape: Shape } {
  // Empty inputs (torch exports some) take no part.
  const parts = shapes.filter((s): s is Shape => !!s && elementCount(s) > 0);
  if (parts.length === 0) throw nodeError(node, 'every input is empty');
  const first = parts[0];
  requireRank(node, first);
  const axis = normalizeAxis(node, attrInt(node, 'axis'), first.length);
  for (const s of parts) {
    if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i])) {
      throw nodeError(node, `input [${s}] does not match [${first}] outside axis ${axis}`);
    }
  }
  const starts: number[] = [];
  let along = 0;
  for (const s of shapes) {
    starts.push(along);
    if (s && elementCount(s) > 0) along += s[axis];
  }
  const outShape = [...first];
  outShape[axis] = along;
  return { axis, starts, outShape };
}

export const concat: OpDef = {
  types: ['Concat'],

  inferShapes: ({ node, inputShapes }) => [layout(node, inputShapes).outShape],

  forward(ctx) {
    const { axis, starts } = layout(ctx.node, ctx.inputs.map((x) => x?.shape));
    const y = ctx.outputs[0];
    const strides = contiguousStrides(y.shape);
    ctx.inputs.forEach((x, i) => {
      if (x) stridedCopy(ctx, x.shape, contiguousView(x.ref), { ref: y.ref, offset: starts[i] * strides[axis], strides }, false);
    });
  },

  backward(ctx: BackwardContext) {
    const dy = ctx.gradOutput(0);
    if (!dy) return;
    const { axis, starts } = layout(ctx.node, ctx.inputs.map((x) => x?.shape));
    const strides = contiguousStrides(ctx.outputs[0].shape);
    ctx.inputs.forEach((x, i) => {
      const dx = ctx.gradInput(i);
      if (x && dx) stridedCopy(ctx, x.shape, { ref: dy, offset: starts[i] * strides[axis], strides }, contiguousView(dx.ref), dx.accumulate);
    });
  },
};
