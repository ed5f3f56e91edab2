// Concat (any axis, any number of inputs): one strided copy per input into its slab of the output;
// backward copies each slab of dY back out.
import { linearTangent } from './tangent.js';
import { attrInt, elementCount, type Node, type Shape, contiguousStrides } from '../graph/ir.js';
import { contiguousView, nodeError, normalizeAxis, requireRank, stridedCopy } from './common.js';
import { copyStrided, like } from './fold.js';
import type { BackwardContext, OpDef } from './types.js';

/** The concatenation axis and where each input starts along it. */
interface ConcatLayout {
  axis: number;
  /** Where each input starts along the axis. */
  starts: number[];
  outShape: Shape;
}

function layout(node: Node, shapes: (Shape | undefined)[]): ConcatLayout {
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

/** Input i's slab of the output (or of its gradient). */
function slab({ axis, starts, outShape }: ConcatLayout, i: number): { offset: number; strides: number[] } {
  const strides = contiguousStrides(outShape);
  return { offset: starts[i] * strides[axis], strides };
}

export const concat: OpDef<ConcatLayout> = {
  versions: { Concat: [1, 4, 11, 13] },
  geometry: ({ node, inputShapes }) => layout(node, inputShapes),
  inferShapes: (_, g) => [g.outShape],

  fold(inputs, _, g) {
    const out: number[] = [];
    inputs.forEach((x, i) => copyStrided(x.shape, x.data, { offset: 0, strides: contiguousStrides(x.shape) }, out, slab(g, i)));
    return [like(inputs[0].data, out)];
  },

  forward(ctx) {
    const y = ctx.outputs[0];
    ctx.inputs.forEach((x, i) => {
      if (x) stridedCopy(ctx, x.shape, contiguousView(x.ref), { ref: y.ref, ...slab(ctx.geometry, i) }, false);
    });
  },

  tangent: (ctx) => linearTangent(ctx, concat.forward, { linear: ctx.inputs.map((_, i) => i) }),

  backward(ctx: BackwardContext<ConcatLayout>) {
    const dy = ctx.gradOutput(0);
    if (!dy) return;
    ctx.inputs.forEach((x, i) => {
      const dx = ctx.gradInput(i);
      if (x && dx) stridedCopy(ctx, x.shape, { ref: dy, ...slab(ctx.geometry, i) }, contiguousView(dx.ref), dx.accumulate);
    });
  },
};
