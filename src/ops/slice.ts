// Slice: starts/ends/axes as attributes (opset < 10) or load-time constant inputs with steps (opset >= 10),
// negative indices and steps included. Forward is a strided gather; backward dy copied into the slice's
// positions over zeros, or with a negative step a gather into zeros where each input element works out
// whether, and to which output position, it was sliced.
import { linearTangent } from './tangent.js';
import { attrInts, type Constant, contiguousStrides, elementCount, type Node, type Shape } from '../graph/ir.js';
import { sliceBackwardKernel } from '../kernels/layout.js';
import { constantInts, contiguousView, nodeError, normalizeAxis, requireRank, stridedCopy, zeros } from './common.js';
import { copyStrided, like } from './fold.js';
import type { BackwardContext, OpDef } from './types.js';

interface SliceGeometry {
  inShape: Shape;
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
  const result: SliceGeometry = { inShape: shape, starts: shape.map(() => 0), steps: shape.map(() => 1), outShape: [...shape] };
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

/** ONNX Slice semantics for one axis: clamped start/end, any non-zero step. */
function sliceRange(dim: number, start: number, end: number, step: number): { start: number; step: number; count: number } {
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

/** Where the output reads the input: the first taken element and a stride per axis (step times the input's). */
function source(g: SliceGeometry): { offset: number; strides: number[] } {
  const strides = contiguousStrides(g.inShape);
  return { offset: g.starts.reduce((sum, s, d) => sum + s * strides[d], 0), strides: strides.map((s, d) => s * g.steps[d]) };
}

export const slice: OpDef<SliceGeometry> = {
  versions: { Slice: [1, 10, 11, 13] },
  dataInputs: [0],
  geometry: ({ node, opset, inputShapes, constant }) => geometry(node, opset, inputShapes[0]!, constant),
  inferShapes: (_, g) => [g.outShape],

  fold([x], [outShape], g) {
    const out: number[] = [];
    copyStrided(outShape, x.data, source(g), out, { offset: 0, strides: contiguousStrides(outShape) });
    return [like(x.data, out)];
  },

  forward(ctx) {
    stridedCopy(ctx, ctx.geometry.outShape, { ref: ctx.inputs[0]!.ref, ...source(ctx.geometry) }, contiguousView(ctx.outputs[0].ref), false);
  },

  tangent: (ctx) => linearTangent(ctx, slice.forward, { linear: [0] }),

  backward(ctx: BackwardContext<SliceGeometry>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const shape = ctx.inputs[0]!.shape;
    const g = ctx.geometry;
    // Forward steps: dy added into the slice's positions by a strided copy (merged dims), after zeros
    // unless dx already holds gradients. Cheaper on CPU adapters than the per-axis test below (a 3-D
    // conv's depth taps: 17-23 ms each -> two copies).
    if (g.steps.every((step) => step > 0)) {
      if (!dx.accumulate) stridedCopy(ctx, shape, zeros(ctx, shape.length), contiguousView(dx.ref, shape), false);
      stridedCopy(ctx, g.outShape, contiguousView(dy, g.outShape), { ref: dx.ref, ...source(g) }, true);
      return;
    }
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
