// Transpose (any permutation, rank <= 8) as a strided gather; backward gathers dY through the inverse
// permutation.
import { linearTangent } from './tangent.js';
import { attrInts, type Node, type Shape, contiguousStrides } from '../graph/ir.js';
import { contiguousView, nodeError, requireRank, stridedCopy } from './common.js';
import { copyStrided, like } from './fold.js';
import type { BackwardContext, OpDef } from './types.js';

function permutation(node: Node, shape: Shape): number[] {
  requireRank(node, shape);
  const perm = attrInts(node, 'perm') ?? shape.map((_, i) => shape.length - 1 - i);
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== shape.length || sorted.some((p, i) => p !== i)) throw nodeError(node, `perm [${perm}] is not a permutation of the ${shape.length} axes`);
  return perm;
}

/** Output axis d reads input axis perm[d]: the input's strides in output order. */
function sourceStrides(inShape: Shape, perm: number[]): number[] {
  const inStrides = contiguousStrides(inShape);
  return perm.map((p) => inStrides[p]);
}

export const transpose: OpDef<number[]> = {
  versions: { Transpose: [1, 13, 21] },
  dataInputs: [0],
  geometry: ({ node, inputShapes }) => permutation(node, inputShapes[0]!),
  inferShapes: ({ inputShapes }, perm) => [perm.map((p) => inputShapes[0]![p])],

  fold([x], [outShape], perm) {
    const out: number[] = [];
    copyStrided(outShape, x.data, { offset: 0, strides: sourceStrides(x.shape, perm) }, out, { offset: 0, strides: contiguousStrides(outShape) });
    return [like(x.data, out)];
  },

  forward(ctx) {
    const x = ctx.inputs[0]!;
    const y = ctx.outputs[0];
    stridedCopy(ctx, y.shape, { ref: x.ref, offset: 0, strides: sourceStrides(x.shape, ctx.geometry) }, contiguousView(y.ref), false);
  },

  tangent: (ctx) => linearTangent(ctx, transpose.forward, { linear: [0] }),

  backward(ctx: BackwardContext<number[]>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const inShape = ctx.inputs[0]!.shape;
    const perm = ctx.geometry;
    const outStrides = contiguousStrides(ctx.outputs[0].shape);
    // Input axis perm[d] is output axis d.
    const strides = new Array<number>(inShape.length);
    perm.forEach((p, d) => (strides[p] = outStrides[d]));
    stridedCopy(ctx, inShape, { ref: dy, offset: 0, strides }, contiguousView(dx.ref), dx.accumulate);
  },
};
