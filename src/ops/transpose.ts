// Transpose (any permutation, rank <= 8) as a strided gather; backward gathers dY through the inverse
// permutation.
import { attrInts, type Node, type Shape, contiguousStrides } from '../graph/ir.js';
import { contiguousView, nodeError, requireRank, stridedCopy } from './common.js';
import type { BackwardContext, OpDef } from './types.js';

function permutation(node: Node, shape: Shape): number[] {
  requireRank(node, shape);
  const perm = attrInts(node, 'perm') ?? shape.map((_, i) => shape.length - 1 - i);
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== shape.length || sorted.some((p, i) => p !== i)) throw nodeError(node, `perm [${perm}] is not a permutation of the ${shape.length} axes`);
  return perm;
}

export const transpose: OpDef = {
  types: ['Transpose'],
  dataInputs: [0],

  inferShapes({ node, inputShapes }) {
    const shape = inputShapes[0]!;
    return [permutation(node, shape).map((p) => shape[p])];
  },

  forward(ctx) {
    const x = ctx.inputs[0]!;
    const y = ctx.outputs[0];
    const inStrides = contiguousStrides(x.shape);
    const perm = permutation(ctx.node, x.shape);
    stridedCopy(ctx, y.shape, { ref: x.ref, offset: 0, strides: perm.map((p) => inStrides[p]) }, contiguousView(y.ref), false);
  },

  backward(ctx: BackwardContext) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const inShape = ctx.inputs[0]!.shape;
    const perm = permutation(ctx.node, inShape);
    const outStrides = contiguousStrides(ctx.outputs[0].shape);
    // Input axis perm[d] is output axis d.
    const strides = new Array<number>(inShape.length);
    perm.forEach((p, d) => (strides[p] = outStrides[d]));
    stridedCopy(ctx, inShape, { ref: dy, offset: 0, strides }, contiguousView(dx.ref), dx.accumulate);
  },
};
