// Resize (opsets 10 to 19) and Upsample (7 to 10): nearest (each rounding mode), linear and cubic
// sampling under every coordinate transformation mode. Sampling is separable, so the op runs one axis at
// a time: per resized axis a tap table (for each output position its input positions and weights, and
// an extrapolation bias for tf_crop_and_resize) is computed here in float64 from ONNX's formulas, and
// the backward pass gathers through the transposed table. Gradients do not depend on the input (the
// weights are fixed by the positions), so there are no decision margins.
import { linearTangent } from './tangent.js';
import { attrFloat, attrInt, attrString, type Constant, elementCount, type Node, type Shape } from '../graph/ir.js';
import { resizeBackwardKernel, resizeKernel } from '../kernels/resize.js';
import type { TensorRef } from '../kernels/program.js';
import { contiguousView, copyGradient, nodeError, normalizeAxis, stridedCopy } from './common.js';
import type { BackwardContext, KernelContext, OpDef, ShapeContext } from './types.js';

interface AxisPlan {
  axis: number;
  inLen: number;
  outLen: number;
  taps: number;
  index: Constant;
  weight: Constant;
  bias: Constant;
  /** The transposed table, per input position: its entries' output positions and weights. */
  offsets: Constant;
  entryOutput: Constant;
  entryWeight: Constant;
}

interface ResizeGeometry {
  outShape: Shape;
  axes: AxisPlan[];
}

interface Settings {
  mode: 'nearest' | 'linear' | 'cubic';
  transform: string;
  nearest: string;
  cubicA: number;
  excludeOutside: boolean;
  extrapolation: number;
}

const TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'];
const NEAREST = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

function settings(node: Node, opset: number): Settings {
  const modeName = attrString(node, 'mode', 'nearest');
  const mode = modeName === 'bilinear' ? 'linear' : modeName;
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic') throw nodeError(node, `mode "${modeName}" is not one of nearest, linear, cubic`);
  if (node.opType === 'Upsample' || opset < 11) {
    if (mode === 'cubic') throw nodeError(node, 'cubic mode needs Resize at opset 11 or later');
    // Upsample and Resize-10 sample asymmetrically, nearest by flooring.
    return { mode, transform: 'asymmetric', nearest: 'floor', cubicA: -0.75, excludeOutside: false, extrapolation: 0 };
  }
  const transform = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  if (!TRANSFORMS.includes(transform) || (transform === 'half_pixel_symmetric' && opset < 19)) {
    throw nodeError(node, `coordinate_transformation_mode "${transform}" is not supported`);
  }
  const nearest = attrString(node, 'nearest_mode', 'round_prefer_floor');
  if (!NEAREST.includes(nearest)) throw nodeError(node, `nearest_mode "${nearest}" is not supported`);
  if (attrInt(node, 'antialias', 0) !== 0) throw nodeError(node, 'antialias=1 is not supported');
  if (attrString(node, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') throw nodeError(node, 'keep_aspect_ratio_policy other than stretch is not supported');
  return {
    mode, transform, nearest,
    cubicA: attrFloat(node, 'cubic_coeff_a', -0.75),
    excludeOutside: attrInt(node, 'exclude_outside', 0) !== 0,
    extrapolation: attrFloat(node, 'extrapolation_value', 0),
  };
}

/** Output sizes and scales per axis from scales or sizes (Resize inputs by opset, Upsample's scales). */
function sizesAndScales(ctx: ShapeContext, shape: Shape): { sizes: number[]; scales: number[]; roi?: number[] } {
  const { node, opset } = ctx;
  const floats = (i: number) => {
    if (!node.inputs[i]) return undefined;
    const c = ctx.constant(i);
    if (!c) throw nodeError(node, `input "${node.inputs[i]}" must be known at load time`);
    return Array.from(c.data as ArrayLike<number>, Number);
  };
  const rank = shape.length;
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  let roi: number[] | undefined;
  if (node.opType === 'Upsample') scales = opset < 9 ? (node.attributes.get('scales') as number[] | undefined) : floats(1);
  else if (opset < 11) scales = floats(1);
  else {
    roi = floats(1);
    scales = floats(2);
    sizes = floats(3);
    if (scales && scales.length === 0) scales = undefined;
    if (sizes && sizes.length === 0) sizes = undefined;
  }
  // Opset 18: scales and sizes may name a subset of axes.
  const axes = opset >= 18 && node.attributes.has('axes') ? (node.attributes.get('axes') as number[]).map((a) => normalizeAxis(node, a, rank)) : undefined;
  const full = (values: number[] | undefined, fill: (d: number) => number) => {
    if (!values || !axes) return values;
    const out = shape.map((_, i) => fill(i));
    axes.forEach((a, i) => (out[a] = values[i]));
    return out;
  };
  sizes = full(sizes, (i) => shape[i]);
  scales = full(scales, () => 1);
  if (roi && axes) roi = full(roi.slice(0, axes.length), () => 0)!.concat(full(roi.slice(axes.length), () => 1)!);
  if (sizes) {
    if (sizes.length !== rank) throw nodeError(node, `sizes [${sizes}] must give ${rank} values`);
    return { sizes, scales: sizes.map((s, i) => s / shape[i]), roi };
  }
  if (!scales || scales.length !== rank) throw nodeError(node, `scales ${scales ? `[${scales}]` : 'missing'} must give ${rank} values`);
  if (scales.some((s) => !(s > 0))) throw nodeError(node, `scales [${scales}] must be positive`);
  // tf_crop_and_resize samples the region of interest: its width scales the size too.
  const width = (i: number) => (roi && attrString(node, 'coordinate_transformation_mode', '') === 'tf_crop_and_resize' ? roi[i + rank] - roi[i] : 1);
  return { sizes: shape.map((d, i) => Math.floor(d * width(i) * scales![i])), scales, roi };
}

/** ONNX's map from an output coordinate to the input's. */
function sourceCoordinate(s: Settings, x: number, inLen: number, outLen: number, scale: number, roiStart: number, roiEnd: number): number {
  switch (s.transform) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const adjustment = outLen / (scale * inLen);
      const offset = (inLen / 2) * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    // These two read the resized length before rounding, scale x input, as ONNX's reference does (with
    // sizes given, the scale is size / input and the two agree).
    case 'pytorch_half_pixel':
      return scale * inLen > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return scale * inLen === 1 ? 0 : (x * (inLen - 1)) / (scale * inLen - 1);
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
    case 'tf_crop_and_resize':
      return outLen > 1
        ? roiStart * (inLen - 1) + (x * (roiEnd - roiStart) * (inLen - 1)) / (outLen - 1)
        : 0.5 * (roiStart + roiEnd) * (inLen - 1);
    default:
      return x / scale;
  }
}

function roundNearest(mode: string, v: number): number {
  switch (mode) {
    case 'round_prefer_ceil':
      return Math.floor(v + 0.5);
    case 'floor':
      return Math.floor(v);
    case 'ceil':
      return Math.ceil(v);
    default:
      // round_prefer_floor: halves go down.
      return Math.ceil(v - 0.5);
  }
}

/** Keys' cubic convolution weights of the four taps floor(x) - 1 ... floor(x) + 2 at fraction t. */
function cubicWeights(a: number, t: number): number[] {
  const far = (d: number) => ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  const near = (d: number) => ((a + 2) * d - (a + 3)) * d * d + 1;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/** The tap table of one axis, or undefined when it maps every position to itself. */
function axisPlan(s: Settings, axis: number, inLen: number, outLen: number, scale: number, roi: [number, number]): AxisPlan | undefined {
  const taps = s.mode === 'nearest' ? 1 : s.mode === 'linear' ? 2 : 4;
  const index = new Float32Array(outLen * taps);
  const weight = new Float32Array(outLen * taps);
  const bias = new Float32Array(outLen);
  const clampIndex = (i: number) => Math.min(Math.max(i, 0), inLen - 1);
  let identity = outLen === inLen;
  for (let o = 0; o < outLen; o++) {
    const x = sourceCoordinate(s, o, inLen, outLen, scale, roi[0], roi[1]);
    if (s.transform === 'tf_crop_and_resize' && (x < 0 || x > inLen - 1)) {
      bias[o] = s.extrapolation;
      identity = false;
      continue;
    }
    let entries: [number, number][];
    if (s.mode === 'nearest') entries = [[clampIndex(roundNearest(s.nearest, x)), 1]];
    else if (s.mode === 'linear') {
      const c = Math.min(Math.max(x, 0), inLen - 1);
      const lo = Math.floor(c);
      entries = [[lo, 1 - (c - lo)], [clampIndex(lo + 1), c - lo]];
    } else {
      const lo = Math.floor(x);
      const w = cubicWeights(s.cubicA, x - lo);
      entries = w.map((wt, t) => [lo - 1 + t, wt]);
      if (s.excludeOutside) {
        const inside = entries.map(([i, wt]) => (i >= 0 && i < inLen ? wt : 0));
        const total = inside.reduce((p, v) => p + v, 0);
        entries = entries.map(([i], t) => [clampIndex(i), inside[t] / total]);
      } else entries = entries.map(([i, wt]) => [clampIndex(i), wt]);
    }
    entries.forEach(([i, wt], t) => {
      index[o * taps + t] = i;
      weight[o * taps + t] = wt;
    });
    const own = entries.reduce((p, [i, wt]) => p + (i === o ? wt : 0), 0);
    if (own !== 1 || entries.some(([i, wt]) => i !== o && wt !== 0)) identity = false;
  }
  if (identity) return undefined;
  // The transposed table: for each input position, the (output, weight) pairs that read it.
  const rows: [number, number][][] = Array.from({ length: inLen }, () => []);
  for (let k = 0; k < outLen * taps; k++) if (weight[k] !== 0) rows[index[k]].push([Math.floor(k / taps), weight[k]]);
  const offsets = new Float32Array(inLen + 1);
  rows.forEach((row, p) => (offsets[p + 1] = offsets[p] + row.length));
  // A table with no entries still binds one (unread) element.
  const flat = rows.flat().concat(rows.some((r) => r.length) ? [] : [[0, 0]]);
  const floats = (data: Float32Array): Constant => ({ dtype: 'float32', shape: [data.length], data });
  return {
    axis, inLen, outLen, taps,
    index: floats(index), weight: floats(weight), bias: floats(bias), offsets: floats(offsets),
    entryOutput: floats(Float32Array.from(flat.map(([o]) => o))), entryWeight: floats(Float32Array.from(flat.map(([, w]) => w))),
  };
}

function geometry(ctx: ShapeContext): ResizeGeometry {
  const { node } = ctx;
  const shape = ctx.inputShapes[0];
  if (!shape) throw nodeError(node, 'missing input');
  const s = settings(node, ctx.opset);
  const { sizes, scales, roi } = sizesAndScales(ctx, shape);
  if (sizes.some((d) => !Number.isInteger(d) || d <= 0)) throw nodeError(node, `the output would be [${sizes}]`);
  const rank = shape.length;
  if (elementCount(sizes) >= 2 ** 24 || shape.some((d) => d >= 2 ** 24)) throw nodeError(node, 'the tensors are too large for the float32 tap indices');
  const axes: AxisPlan[] = [];
  shape.forEach((inLen, axis) => {
    const plan = axisPlan(s, axis, inLen, sizes[axis], scales[axis], [roi?.[axis] ?? 0, roi?.[axis + rank] ?? 1]);
    if (plan) axes.push(plan);
  });
  return { outShape: sizes, axes };
}

/** Elements after `axis`: the stride of one step along it. */
const inner = (shape: Shape, axis: number) => elementCount(shape.slice(axis + 1));

export const resize: OpDef<ResizeGeometry> = {
  versions: { Resize: [10, 11, 13, 18, 19], Upsample: [7, 9, 10] },
  geometry,
  dataInputs: [0],
  inferShapes: (_, g) => [g.outShape],

  forward(ctx: KernelContext<ResizeGeometry>) {
    const { axes } = ctx.geometry;
    let source = ctx.inputs[0]!.ref;
    let shape = [...ctx.inputs[0]!.shape];
    if (axes.length === 0) {
      const flat = [elementCount(shape)];
      stridedCopy(ctx, flat, contiguousView(source, flat), contiguousView(ctx.outputs[0].ref, flat), false);
    }
    axes.forEach((plan, k) => {
      shape = shape.map((d, i) => (i === plan.axis ? plan.outLen : d));
      const target: TensorRef = k === axes.length - 1 ? ctx.outputs[0].ref : ctx.scratch([...shape], 'resized along one axis');
      ctx.dispatch(
        resizeKernel.program({
          uniforms: { in_len: plan.inLen, out_len: plan.outLen, inner: inner(shape, plan.axis), taps: plan.taps },
          bindings: {
            x: source, index: ctx.constant(plan.index, 'resize taps'), weight: ctx.constant(plan.weight, 'resize weights'),
            bias: ctx.constant(plan.bias, 'resize extrapolation'), y: target,
          },
          count: elementCount(shape),
        }),
      );
      source = target;
    });
  },

  // Every mode weighs the input's values with weights that do not depend on them: linear in x.
  tangent: (ctx) => linearTangent(ctx, resize.forward, { linear: [0] }),

  backward(ctx: BackwardContext<ResizeGeometry>) {
    const { axes } = ctx.geometry;
    if (axes.length === 0) return copyGradient(ctx);
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    // Shapes before each axis's resize, then back through the axes in reverse.
    const shapes: Shape[] = [[...ctx.inputs[0]!.shape]];
    for (const plan of axes) shapes.push(shapes[shapes.length - 1].map((d, i) => (i === plan.axis ? plan.outLen : d)));
    let gradient = dy;
    for (let k = axes.length - 1; k >= 0; k--) {
      const plan = axes[k];
      const shape = shapes[k];
      const last = k === 0;
      const target: TensorRef = last ? dx.ref : ctx.scratch(shape, 'resize gradient along one axis');
      ctx.dispatch(
        resizeBackwardKernel.program({
          uniforms: { in_len: plan.inLen, out_len: plan.outLen, inner: inner(shape, plan.axis), taps: plan.taps },
          bindings: {
            dy: gradient, offsets: ctx.constant(plan.offsets, 'resize offsets'),
            entry_output: ctx.constant(plan.entryOutput, 'resize entry outputs'), entry_weight: ctx.constant(plan.entryWeight, 'resize entry weights'),
            dx: target,
          },
          accumulate: last && dx.accumulate,
          count: elementCount(shape),
        }),
      );
      gradient = target;
    }
  },
};
