// Conv, ConvTranspose, MaxPool and AveragePool over one or three spatial axes, as compositions of the 2-D kernels
// (and so with their GEMM variants, fusions, gradients and margins):
//  - 1-D: [N, C, L] is [N, C, 1, L] under a 1-high window.
//  - 3-D: the volume is viewed as depth planes [N, D, C, H, W]; for each depth tap t of the window the
//    planes it reads (t * dilation + stride * j, after padding the depth) are stacked into a batch of
//    N * D' images and pooled or convolved in 2-D with the tap's slice of the kernel; the taps combine by
//    Add (Conv), Max (MaxPool) or Add then a per-depth divisor (AveragePool: the divisor of a box window
//    is the depth count times the plane count, the plane count applied by the 2-D pool). ConvTranspose
//    spreads each tap's 2-D result over the depth instead (convTranspose3d).
import { attrInt, type Node, type Shape } from '../graph/ir.js';
import { nodeError } from './common.js';
import type { CompositeOp, NodeMaker } from './composite.js';
import type { ShapeContext } from './types.js';
import { type WindowAxis, windowNd } from './window.js';

/** The 2-D window attributes of axes [h, w], with pads resolved (auto_pad already applied). */
function planeWindow([h, w]: WindowAxis[], extra: Record<string, number> = {}) {
  return {
    kernel_shape: [h.k, w.k], strides: [h.stride, w.stride], dilations: [h.dilation, w.dilation],
    pads: [h.padBegin, w.padBegin, h.padEnd, w.padEnd], ...extra,
  };
}

/** A 1-high window before the one axis, for the 1-D forms. */
const LIFT: WindowAxis = { k: 1, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, out: 1 };

function inputShape(ctx: ShapeContext): Shape {
  const shape = ctx.inputShapes[0];
  if (!shape) throw nodeError(ctx.node, 'missing input');
  return shape;
}

const isConv = (node: Node) => node.opType === 'Conv';

/** The window's kernel sizes: the weight's trailing dims for Conv, kernel_shape for the pools. */
function kernelOf(ctx: ShapeContext, spatial: number): number[] {
  const { node } = ctx;
  const declared = node.attributes.get('kernel_shape') as number[] | undefined;
  if (isConv(node)) {
    const w = ctx.inputShapes[1];
    if (!w || w.length !== spatial + 2) throw nodeError(node, `weight ${w ? `[${w}]` : 'missing'} must have ${spatial + 2} dims`);
    if (declared && declared.join() !== w.slice(2).join()) throw nodeError(node, `kernel_shape [${declared}] does not match weight [${w}]`);
    return w.slice(2);
  }
  if (!declared || declared.length !== spatial) throw nodeError(node, `kernel_shape must give ${spatial} sizes`);
  return declared;
}

/** The 2-D node's attributes beside the window: groups, ceil_mode, count_include_pad as the node has them. */
function carried(node: Node): Record<string, number> {
  if (isConv(node)) return { group: attrInt(node, 'group', 1) };
  const extra: Record<string, number> = { ceil_mode: attrInt(node, 'ceil_mode', 0) };
  if (node.opType === 'AveragePool') extra.count_include_pad = attrInt(node, 'count_include_pad', 0);
  return extra;
}

function expand1d(ctx: ShapeContext, b: NodeMaker): void {
  const { node } = ctx;
  const [n, c, l] = inputShape(ctx);
  const [axis] = windowNd(node, [l], kernelOf(ctx, 1), attrInt(node, 'ceil_mode', 0) !== 0);
  const inputs = [b.reshape(node.inputs[0], [n, c, 1, l])];
  if (isConv(node)) {
    const [o, cg, k] = ctx.inputShapes[1]!;
    inputs.push(b.reshape(node.inputs[1], [o, cg, 1, k]));
    if (node.inputs[2]) inputs.push(node.inputs[2]);
  }
  const out = b.add(node.opType, inputs, planeWindow([LIFT, axis], carried(node)));
  b.reshape(out, [n, isConv(node) ? ctx.inputShapes[1]![0] : c, axis.out], node.outputs[0]);
}

function expand3d(ctx: ShapeContext, b: NodeMaker): void {
  const { node } = ctx;
  const [n, c, d, h, w] = inputShape(ctx);
  const kernel = kernelOf(ctx, 3);
  const [depth, ...plane] = windowNd(node, [d, h, w], kernel, attrInt(node, 'ceil_mode', 0) !== 0);
  const conv = isConv(node);
  const max = node.opType === 'MaxPool';

  // Depth planes first, padded so that every tap's planes exist (ceil_mode may reach past the end pad).
  let planes = b.add('Transpose', [node.inputs[0]], { perm: [0, 2, 1, 3, 4] });
  const reach = (depth.k - 1) * depth.dilation + depth.stride * (depth.out - 1) + 1;
  const padEnd = Math.max(depth.padEnd, reach - depth.padBegin - d);
  // Max pooling pads with the lowest float (never the maximum of a window that has a real element).
  if (depth.padBegin > 0 || padEnd > 0) planes = b.pad(planes, 5, 1, depth.padBegin, padEnd, max ? -3.4028234e38 : 0);

  const outC = conv ? ctx.inputShapes[1]![0] : c;
  let total: string | undefined;
  for (let t = 0; t < depth.k; t++) {
    const taken = Array.from({ length: depth.out }, (_, j) => t * depth.dilation + depth.stride * j);
    const stack = b.reshape(b.take(planes, 1, taken), [n * depth.out, c, h, w]);
    const inputs = [stack];
    if (conv) {
      const [o, cg, , kh, kw] = ctx.inputShapes[1]!;
      inputs.push(b.reshape(b.take(node.inputs[1], 2, [t]), [o, cg, kh, kw]));
      if (t === 0 && node.inputs[2]) inputs.push(node.inputs[2]);
    }
    const tap = b.add(node.opType, inputs, planeWindow(plane, carried(node)));
    total = total === undefined ? tap : b.add(max ? 'Max' : 'Add', [total, tap]);
  }
  const [outH, outW] = plane.map((a) => a.out);
  let volume = b.reshape(total!, [n, depth.out, outC, outH, outW]);
  if (node.opType === 'AveragePool') volume = b.add('Mul', [volume, b.floats(depthDivisors(node, depth, d).map((v) => 1 / v), [1, depth.out, 1, 1, 1])]);
  b.add('Transpose', [volume], { perm: [0, 2, 1, 3, 4] }, node.outputs[0]);
}

/**
 * Per output depth, how many depth positions its window averages: those inside the input and its pads
 * with count_include_pad, those inside the input without (as PyTorch and ONNX's reference count).
 */
function depthDivisors(node: Node, a: WindowAxis, size: number): number[] {
  const includePad = attrInt(node, 'count_include_pad', 0) !== 0;
  return Array.from({ length: a.out }, (_, j) => {
    const start = j * a.stride - a.padBegin;
    const end = Math.min(start + a.k, size + a.padEnd);
    return includePad ? end - start : Math.min(end, size) - Math.max(start, 0);
  });
}

/** Rank 3 or 5 (rank 4 runs the 2-D kernels directly). */
const hasOneOrThreeSpatialAxes = (ctx: ShapeContext) => ctx.inputShapes[0]?.length === 3 || ctx.inputShapes[0]?.length === 5;

/** Conv, MaxPool and AveragePool on a rank-3 or rank-5 input. */
function rankComposite(versions: number[]): CompositeOp {
  return {
    versions,
    applies: hasOneOrThreeSpatialAxes,
    expand(ctx, b) {
      const { node } = ctx;
      if (node.outputs.length > 1 && node.outputs[1]) throw nodeError(node, `the Indices output ("${node.outputs[1]}") is not supported`);
      if (inputShape(ctx).length === 3) expand1d(ctx, b);
      else expand3d(ctx, b);
    },
  };
}

/**
 * A 3-D ConvTranspose: for each depth tap t, the 2-D transposed convolution of every input depth plane
 * with the tap's kernel slice lands on output depth i * stride + t * dilation (before cropping the
 * pads): the planes are spread stride apart with zero planes between, shifted by t * dilation, summed
 * over the taps, then cropped to [pad begin, length - pad end) and output_padding.
 */
function convTranspose3d(ctx: ShapeContext, b: NodeMaker): void {
  const { node } = ctx;
  const [n, c, d, h, w] = inputShape(ctx);
  const weight = ctx.inputShapes[1];
  if (!weight || weight.length !== 5) throw nodeError(node, `weight ${weight ? `[${weight}]` : 'missing'} must have 5 dims`);
  if (node.attributes.has('output_shape') || (node.attributes.get('auto_pad') ?? 'NOTSET') !== 'NOTSET') {
    throw nodeError(node, '3-D ConvTranspose takes explicit pads (output_shape and auto_pad are not supported)');
  }
  const [cin, perGroup, kd, kh, kw] = weight;
  const groups = attrInt(node, 'group', 1);
  const per = (name: string, fallback: number) => (node.attributes.get(name) as number[] | undefined) ?? [fallback, fallback, fallback];
  const [strides, dilations, outputPadding] = [per('strides', 1), per('dilations', 1), per('output_padding', 0)];
  const pads = (node.attributes.get('pads') as number[] | undefined) ?? [0, 0, 0, 0, 0, 0];
  const plane = {
    group: groups, kernel_shape: [kh, kw], strides: strides.slice(1), dilations: dilations.slice(1),
    output_padding: outputPadding.slice(1), pads: [pads[1], pads[2], pads[4], pads[5]],
  };
  const [outH, outW] = [h, w].map((size, i) => plane.strides[i] * (size - 1) + plane.output_padding[i] + (plane.kernel_shape[i] - 1) * plane.dilations[i] + 1 - plane.pads[i] - plane.pads[i + 2]);
  const spreadLength = strides[0] * (d - 1) + 1;
  const full = spreadLength + (kd - 1) * dilations[0] + outputPadding[0];
  const outD = full - pads[0] - pads[3];
  if (outD <= 0) throw nodeError(node, `the output depth would be ${outD}`);

  const planes = b.reshape(b.add('Transpose', [node.inputs[0]], { perm: [0, 2, 1, 3, 4] }), [n * d, c, h, w]);
  let total: string | undefined;
  for (let t = 0; t < kd; t++) {
    const tap = b.add('ConvTranspose', [planes, b.reshape(b.take(node.inputs[1], 2, [t]), [cin, perGroup, kh, kw])], plane);
    // [N, D, F] planes spread stride apart (zero planes between), then shifted to depth t * dilation.
    const rows = b.reshape(tap, [n, d, 1, -1]);
    const spread = b.slice(b.reshape(b.pad(rows, 4, 2, 0, strides[0] - 1, 0), [n, d * strides[0], -1]), 1, 0, spreadLength);
    const placed = b.pad(spread, 3, 1, t * dilations[0], full - t * dilations[0] - spreadLength, 0);
    total = total === undefined ? placed : b.add('Add', [total, placed]);
  }
  const cropped = b.slice(total!, 1, pads[0], pads[0] + outD);
  b.add('Transpose', [b.reshape(cropped, [n, outD, perGroup * groups, outH, outW])], { perm: [0, 2, 1, 3, 4] }, node.outputs[0]);
}

/** A 1-D ConvTranspose lifted to a 1-high 2-D one (its output length follows from the 2-D rule). */
const convTransposeRanks: CompositeOp = {
  versions: [1, 11],
  applies: hasOneOrThreeSpatialAxes,
  expand(ctx, b) {
    const { node } = ctx;
    const shape = inputShape(ctx);
    if (shape.length === 5) return convTranspose3d(ctx, b);
    const [n, c, l] = shape;
    const w = ctx.inputShapes[1];
    if (!w || w.length !== 3) throw nodeError(node, `weight ${w ? `[${w}]` : 'missing'} must have 3 dims`);
    // Each per-axis attribute gains the 1-high axis in front: size 1, stride 1, no padding.
    const lead = (name: string, first: number) => {
      const value = node.attributes.get(name) as number[] | undefined;
      return value ? { [name]: [first, ...value] } : {};
    };
    const pads = node.attributes.get('pads') as number[] | undefined;
    const attributes = {
      ...Object.fromEntries(node.attributes),
      ...lead('kernel_shape', 1), ...lead('strides', 1), ...lead('dilations', 1), ...lead('output_padding', 0), ...lead('output_shape', 1),
      ...(pads ? { pads: [0, pads[0], 0, pads[1]] } : {}),
    };
    const out = b.add('ConvTranspose', [b.reshape(node.inputs[0], [n, c, 1, l]), b.reshape(node.inputs[1], [w[0], w[1], 1, w[2]])], attributes);
    b.reshape(out, [n, w[1] * attrInt(node, 'group', 1), -1], node.outputs[0]);
  },
};

export const RANK_COMPOSITES: Record<string, CompositeOp> = {
  ConvTranspose: convTransposeRanks,
  Conv: rankComposite([1, 11]),
  MaxPool: rankComposite([1, 8, 10, 11, 12]),
  AveragePool: rankComposite([1, 7, 10, 11]),
};
