// Softmax and LogSoftmax. Before opset 13 'axis' (default 1) flattens the input to 2-D at that axis and
// normalizes each row of the flattened trailing axes; from opset 13 it names the single axis to
// normalize (default -1). Both become an [outer, n, inner] view normalized along n.
import { attrInt, elementCount, type Node, type Shape } from '../graph/ir.js';
import { softmaxBackwardKernel, softmaxKernel } from '../kernels/reduce.js';
import { normalizeAxis } from './common.js';
import type { BackwardContext, KernelContext, OpDef } from './types.js';

interface RowLayout {
  outer: number;
  n: number;
  inner: number;
}

function rowLayout(node: Node, opset: number, shape: Shape): RowLayout {
  const legacy = opset < 13;
  const axis = normalizeAxis(node, attrInt(node, 'axis', legacy ? 1 : -1), shape.length);
  const outer = elementCount(shape.slice(0, axis));
  return legacy
    ? { outer, n: elementCount(shape.slice(axis)), inner: 1 }
    : { outer, n: shape[axis], inner: elementCount(shape.slice(axis + 1)) };
}

/** One invocation per row. */
function rowArgs(ctx: KernelContext<RowLayout>) {
  const { outer, n, inner } = ctx.geometry;
  return { uniforms: { n, inner, log_softmax: ctx.node.opType === 'LogSoftmax' ? 1 : 0 }, count: outer * inner };
}

export const softmax: OpDef<RowLayout> = {
  versions: { Softmax: [1, 11, 13], LogSoftmax: [1, 11, 13] },
  geometry: ({ node, opset, inputShapes }) => rowLayout(node, opset, inputShapes[0]!),
  inferShapes: ({ inputShapes }) => [inputShapes[0]!],

  forward(ctx) {
    ctx.dispatch(softmaxKernel.program({ ...rowArgs(ctx), bindings: { x: ctx.inputs[0]!.ref, y: ctx.outputs[0].ref } }));
  },

  backward(ctx: BackwardContext<RowLayout>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    ctx.dispatch(
      softmaxBackwardKernel.program({ ...rowArgs(ctx), bindings: { y: ctx.outputs[0].ref, dy, dx: dx.ref }, accumulate: dx.accumulate }),
    );
  },
};
