// Slice: starts/ends/axes as attributes (opset < 10) or load-time constant inputs with steps (opset >= 10),
// negative indices and steps included. Forward is a strided gather; backward a gather into zeros where
// each input element works out whether, and to which output position, it was sliced.
import { sliceRange } from '../graph/fold.js';
import { attrInts, type Constant, contiguousStrides, elementCount, type Node, type Shape } from '../graph/ir.js';
import { sliceBackwardKernel } from '../kernels/layout.js';
import { constantInts, contiguousView, nodeError, normalizeAxis, requireRank, stridedCopy } from './common.js';
import type { BackwardContext, OpDef } from './types.js';

interface SliceGeometry {
  /** Per input axis: the first index taken, the step, and how many (the output extent). */
  starts: number[];
  steps: number[];
  outShape: Shape;
}

function geometry(node: Node, opset: number, shape: Shape, constant: (i: number) => Constant | undefined): SliceGeometry {
  requireRank(node, shape);
  const input = (i: number, what: string) => (node.inputs[i] ? constantInts(node, constant(i), what) : undefined);
  const starts = opset < 10 ? attrInts(node, 'starts') : input(1, 'starts');
  const ends = opset < 10 ? attrInts(node, 'ends') : input(2, 'ends');
  if (!starts || !ends || starts.length !== ends.length) throw nodeError(node, 'starts and ends must be given, one per sliced axis');
  const axes = (opset < 10 ? attrInts(node, 'axes') : input(3, 'axes')) ?? starts.map((_, i) => i);
  const steps = (opset < 10 ? undefined : input(4, 'steps')) ?? starts.map(() => 1);
  if (axes.length !== starts.length || steps.length !== starts.length) throw nodeError(node, 'axes and steps must match starts');
  const result: SliceGeometry = { starts: shape.map(() => 0), steps: shape.map(() => 1), outShape: [...shape] };
  axes.forEach((a, i) => {
    const axis = normalizeAxis(node, a, shape.length);
    if (steps[i] === 0) throw nodeError(node, 'a step is 0');
    const range = sliceRange(shape[axis], starts[i], ends[i], steps[i]);
    result.starts[axis] = range.start;
    result.steps[axis] = range.step;
    result.outShape[axis] = range.count;
  });
  return result;
}

export const slice: OpDef = {
  types: ['Slice'],
  dataInputs: [0],

  inferShapes: ({ node, opset, inputShapes, constant }) => [geometry(node, opset, inputShapes[0]!, constant).outShape],

  forward(ctx) {
    const x = ctx.inputs[0]!;
    const g = geometry(ctx.node, ctx.opset, x.shape, (i) => ctx.inputs[i]?.constant);
    const strides = contiguousStrides(x.shape);
    const offset = g.starts.reduce((sum, s, d) => sum + s * strides[d], 0);
    const src = { ref: x.ref, offset, strides: strides.map((s, d) => s * g.steps[d]) };
    stridedCopy(ctx, g.outShape, src, contiguousView(ctx.outputs[0].ref), false);
  },

  backward(ctx: BackwardContext) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const shape = ctx.inputs[0]!.shape;
    const g = geometry(ctx.node, ctx.opset, shape, (i) => ctx.inputs[i]?.constant);
    ctx.dispatch(
      sliceBackwardKernel.program({
        uniforms: { rank: shape.length, in_shape: shape, starts: g.starts, steps: g.steps, out_shape: g.outShape },
        bindings: { dy, dx: dx.ref },
        accumulate: dx.accumulate,
        count: elementCount(shape),
      }),
    );
  },
};
