// Pad in constant, reflect and edge modes: pads and the constant value as attributes (opset < 11) or
// load-time constant inputs (opset >= 11, with optional axes from opset 18). Forward: one invocation
// per output element; backward: one per input element, summing the outputs that read it.
import { linearTangent } from './tangent.js';
import { attrFloat, attrInts, attrString, type Constant, contiguousStrides, elementCount, type Node, type Shape } from '../graph/ir.js';
import { padBackwardKernel, padKernel } from '../kernels/layout.js';
import { constantInts, contiguousView, nodeError, normalizeAxis, requireRank, stridedCopy } from './common.js';
import type { BackwardContext, OpDef } from './types.js';

const MODES = ['constant', 'reflect', 'edge'];

interface PadGeometry {
  mode: number;
  value: number;
  begins: number[];
  outShape: Shape;
  /** Every pad is 0 (torchvision's densenet exports its transitions' pooling with one): a view. */
  unchanged: boolean;
}

function geometry(node: Node, opset: number, shape: Shape, constant: (i: number) => Constant | undefined): PadGeometry {
  requireRank(node, shape);
  const modeName = attrString(node, 'mode', 'constant');
  const mode = MODES.indexOf(modeName);
  if (mode < 0) throw nodeError(node, `mode "${modeName}" is not supported (${MODES.join(', ')})`);
  const pads = opset < 11 ? attrInts(node, 'pads') ?? attrInts(node, 'paddings') : constantInts(node, constant(1), 'pads');
  const axes = opset >= 18 && node.inputs[3] ? constantInts(node, constant(3), 'axes').map((a) => normalizeAxis(node, a, shape.length)) : shape.map((_, i) => i);
  if (!pads || pads.length !== 2 * axes.length) throw nodeError(node, `pads must hold a begin and an end for each of ${axes.length} axes`);
  let value = 0;
  if (opset < 11) value = attrFloat(node, 'value', 0);
  else if (node.inputs[2]) value = Number(constant(2)?.data[0] ?? NaN);
  if (Number.isNaN(value)) throw nodeError(node, 'constant_value must be known at load time');
  const begins = shape.map(() => 0);
  const outShape = [...shape];
  axes.forEach((axis, i) => {
    const [begin, end] = [pads[i], pads[i + axes.length]];
    // Reflection mirrors without repeating the edge, so it reaches at most dim - 1 elements out.
    if (modeName === 'reflect' && Math.max(begin, end) >= shape[axis]) {
      throw nodeError(node, `reflect padding of ${Math.max(begin, end)} needs an axis longer than ${shape[axis]}`);
    }
    begins[axis] = begin;
    outShape[axis] = shape[axis] + begin + end;
  });
  return { mode, value, begins, outShape, unchanged: pads.every((p) => p === 0) };
}

function padUniforms(g: PadGeometry, inShape: Shape) {
  return { rank: inShape.length, mode: g.mode, value: g.value, in_shape: inShape, out_shape: g.outShape, pads_begin: g.begins };
}

export const pad: OpDef<PadGeometry> = {
  versions: { Pad: [1, 2, 11, 13, 18, 19, 21] },
  dataInputs: [0],
  geometry: ({ node, opset, inputShapes, constant }) => geometry(node, opset, inputShapes[0]!, constant),
  inferShapes: (_, g) => [g.outShape],
  viewWhen: (g) => g.unchanged,

  forward(ctx) {
    const x = ctx.inputs[0]!;
    const g = ctx.geometry;
    ctx.dispatch(padKernel.program({ uniforms: padUniforms(g, x.shape), bindings: { x: x.ref, y: ctx.outputs[0].ref }, count: elementCount(g.outShape) }));
  },

  // Linear in x; the padding constant is a constant term, 0 in the tangent.
  tangent: (ctx) => linearTangent({ ...ctx, geometry: { ...ctx.geometry, value: 0 } }, pad.forward, { linear: [0] }),

  backward(ctx: BackwardContext<PadGeometry>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const shape = ctx.inputs[0]!.shape;
    const g = ctx.geometry;
    // Constant padding without cropping: each input element's gradient is the one output position
    // that copied it, a strided copy out of dy (merged dims, no per-axis range walk).
    const grows = shape.every((d, i) => g.begins[i] >= 0 && g.outShape[i] - d - g.begins[i] >= 0);
    if (MODES[g.mode] === 'constant' && grows) {
      const strides = contiguousStrides(g.outShape);
      const offset = g.begins.reduce((sum, b, i) => sum + b * strides[i], 0);
      stridedCopy(ctx, shape, { ref: dy, offset, strides }, contiguousView(dx.ref, shape), dx.accumulate);
      return;
    }
    ctx.dispatch(
      padBackwardKernel.program({ uniforms: padUniforms(g, shape), bindings: { dy, dx: dx.ref }, accumulate: dx.accumulate, count: elementCount(shape) }),
    );
  },
};
