// Conv (2-D, any kernel, stride, pads, dilation, groups, optional bias). Dense and grouped convolutions
// run as an implicit GEMM (gemm_tiled on GPUs, gemm_registers on CPU adapters); depthwise ones run a
// direct kernel. Backward: data gradient only (the weights are constants of the explained model).
import { linearTangent } from './tangent.js';
import { attrInt, type Constant } from '../graph/ir.js';
import {
  conv2dBackwardDataKernels, conv2dBackwardDataPhaseKernels, conv2dKernels, depthwiseBackwardDefines, depthwiseConv2dBackwardDataKernel, depthwiseConv2dKernel, depthwiseRun, winogradInputKernel, winogradOutputKernel,
} from '../kernels/conv.js';
import { type FusedActivation, fusedUniforms } from '../kernels/fused.js';
import { ceilDiv, type TensorRef } from '../kernels/program.js';
import { contiguousView, nodeError, stridedCopy } from './common.js';
import { dispatchGemm, view } from './matmul.js';
import type { BackwardContext, KernelContext, OpDef, ShapeContext } from './types.js';
import { kernelShape, requireRank4, type Window2d, window2d } from './window.js';

export interface ConvGeometry extends Window2d {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  groups: number;
}

/** The shapes with Conv's checks, and the window they give. */
function geometry({ node, inputShapes }: ShapeContext): ConvGeometry {
  const [batch, inC, inH, inW] = requireRank4(node, inputShapes[0]);
  const w = requireRank4(node, inputShapes[1], 'weight');
  const groups = attrInt(node, 'group', 1);
  if (inC % groups !== 0 || w[0] % groups !== 0 || w[1] * groups !== inC) {
    throw nodeError(node, `weight [${w}] with ${groups} group(s) does not match ${inC} input channels`);
  }
  const declared = node.attributes.has('kernel_shape') ? kernelShape(node) : undefined;
  if (declared && (declared[0] !== w[2] || declared[1] !== w[3])) throw nodeError(node, `kernel_shape [${declared}] does not match weight [${w}]`);
  if (inputShapes[2] && (inputShapes[2].length !== 1 || inputShapes[2][0] !== w[0])) throw nodeError(node, `bias [${inputShapes[2]}] does not match ${w[0]} output channels`);
  return { batch, inC, inH, inW, outC: w[0], groups, ...window2d(node, inH, inW, [w[2], w[3]]) };
}

function convUniforms(g: ConvGeometry) {
  return {
    batch: g.batch, in_c: g.inC, in_h: g.inH, in_w: g.inW, out_c: g.outC, out_h: g.outH, out_w: g.outW, groups: g.groups,
    k_h: g.kH, k_w: g.kW, stride_h: g.strideH, stride_w: g.strideW, pad_t: g.padT, pad_l: g.padL, dil_h: g.dilH, dil_w: g.dilW,
  };
}

const isDepthwise = (g: ConvGeometry) => g.groups > 1 && g.groups === g.inC;

/** A 1x1 convolution without stride, padding or groups is a plain product per image: W [out, in] . x [in, H*W]. */
const isPointwise = (g: ConvGeometry) =>
  g.kH === 1 && g.kW === 1 && g.strideH === 1 && g.strideW === 1 && g.groups === 1 && g.padT === 0 && g.padL === 0 && g.outH === g.inH && g.outW === g.inW;

/**
 * A strided 1x1 convolution without padding or groups (resnet's downsampling shortcuts) reads every
 * stride-th position: its forward is a subsampling copy and then a pointwise product.
 */
const isSubsampledPointwise = (g: ConvGeometry) =>
  g.kH === 1 && g.kW === 1 && g.groups === 1 && g.padT === 0 && g.padL === 0 &&
  g.outH === Math.floor((g.inH - 1) / g.strideH) + 1 && g.outW === Math.floor((g.inW - 1) / g.strideW) + 1;

/**
 * Stride-1, undilated, ungrouped 3x3 convolutions with constant weights and pads of at most 2 (so that
 * backward-data is one too) run as Winograd F(2x2, 3x3): 16 products of C x tiles per 2x2 outputs
 * instead of 36 multiply-adds each, and the products are plain GEMMs without im2col arithmetic.
 */
function winogradFits(ctx: KernelContext<ConvGeometry>): boolean {
  const g = ctx.geometry;
  const pads = [g.padT, g.padL, g.padB, g.padR];
  if (!ctx.device.winograd) return false;
  if (g.kH !== 3 || g.kW !== 3 || g.strideH !== 1 || g.strideW !== 1 || g.dilH !== 1 || g.dilW !== 1 || g.groups !== 1) return false;
  if (pads.some((p) => p < 0 || p > 2) || ctx.inputs[1]?.constant?.dtype !== 'float32') return false;
  const tiles = g.batch * Math.ceil(Math.max(g.outH, g.inH) / 2) * Math.ceil(Math.max(g.outW, g.inW) / 2);
  return 16 * Math.max(g.inC, g.outC) * tiles * 4 <= ctx.device.maxBindingBytes && 16 * g.inC * g.outC * 4 <= ctx.device.maxBindingBytes;
}

/**
 * G g G^T of every 3x3 filter (G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]) in float64, rounded to
 * float32 once, as u[xi][out][in]; `flip` takes the filters of the transposed convolution (backward-data):
 * filter (in, out) rotated by 180 degrees.
 */
function winogradWeights(weight: Constant, flip: boolean): Constant {
  const cache = flip ? transposedFilters : filters;
  let u = cache.get(weight);
  if (!u) {
    const [outC, inC] = weight.shape;
    u = { dtype: 'float32', shape: [16, ...(flip ? [inC, outC] : [outC, inC])], data: transformFilters(weight.data as Float32Array, outC, inC, flip) };
    cache.set(weight, u);
  }
  return u;
}

/** Per weight (shared by every plan of a model): its transformed filters, forward and backward-data. */
const filters = new WeakMap<Constant, Constant>();
const transposedFilters = new WeakMap<Constant, Constant>();

function transformFilters(w: Float32Array, outC: number, inC: number, flip: boolean): Float32Array {
  const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];
  const [rows, cols] = flip ? [inC, outC] : [outC, inC];
  const u = new Float32Array(16 * rows * cols);
  const g = new Float64Array(9);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) g[3 * a + b] = flip ? w[((c * inC + r) * 3 + 2 - a) * 3 + 2 - b] : w[((r * inC + c) * 3 + a) * 3 + b];
      }
      for (let i = 0; i < 4; i++) {
        for (let k = 0; k < 4; k++) {
          let sum = 0;
          for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) sum += G[i][a] * g[3 * a + b] * G[k][b];
          u[((4 * i + k) * rows + r) * cols + c] = sum;
        }
      }
    }
  }
  return u;
}

/**
 * One Winograd convolution: src [batch, inC, inH, inW] with pads (top, left) into dst [batch, outC,
 * outH, outW] (+ bias), from transformed filters u [16, outC, inC].
 */
function winograd(
  ctx: KernelContext,
  src: { ref: TensorRef; channels: number; h: number; w: number; padT: number; padL: number },
  u: TensorRef,
  dst: { ref: TensorRef; channels: number; h: number; w: number; accumulate: boolean; activation?: FusedActivation },
  bias: TensorRef,
  batch: number,
): void {
  const [tilesH, tilesW] = [Math.ceil(dst.h / 2), Math.ceil(dst.w / 2)];
  const tiles = batch * tilesH * tilesW;
  const v = ctx.scratch([16, src.channels, tiles], 'winograd input');
  const m = ctx.scratch([16, dst.channels, tiles], 'winograd products');
  const shared = { tiles, tiles_h: tilesH, tiles_w: tilesW };
  ctx.dispatch(
    winogradInputKernel.program({
      uniforms: { ...shared, channels: src.channels, in_h: src.h, in_w: src.w, pad_t: src.padT, pad_l: src.padL },
      bindings: { x: src.ref, v },
      count: src.channels * tiles,
    }),
  );
  dispatchGemm(ctx, {
    m: dst.channels, n: tiles, k: src.channels, batch: 16,
    left: view(u, src.channels, 1, dst.channels * src.channels),
    right: view(v, tiles, 1, src.channels * tiles),
    out: view(m, tiles, 1, dst.channels * tiles),
    alpha: 1, beta: 0, accumulate: false,
  });
  ctx.dispatch(
    winogradOutputKernel.program({
      uniforms: { ...shared, channels: dst.channels, out_h: dst.h, out_w: dst.w, ...fusedUniforms(dst.activation) },
      bindings: { m, bias, y: dst.ref },
      accumulate: dst.accumulate,
      count: dst.channels * tiles,
    }),
  );
}

/**
 * Strided, undilated backward-data as one GEMM per output phase (ih mod stride, iw mod stride): input
 * position ph + s i is reached by the taps kh = tap0 + s a with tap0 = (ph + pad) mod s, from output
 * position i + (ph + pad - tap0) / s - a. A phase no tap reaches (stride > kernel) gets zeros (K = 0).
 */
function stridedBackwardData(
  ctx: KernelContext<ConvGeometry>,
  args: { uniforms: ReturnType<typeof convUniforms>; bindings: { dy: TensorRef; weight: TensorRef; dx: TensorRef }; accumulate: boolean },
): void {
  const g = ctx.geometry;
  const axis = (phase: number, stride: number, pad: number, k: number, size: number) => {
    const tap0 = (phase + pad) % stride;
    return { rows: Math.ceil((size - phase) / stride), tap0, taps: Math.max(0, Math.ceil((k - tap0) / stride)), shift: (phase + pad - tap0) / stride };
  };
  for (let ph = 0; ph < Math.min(g.strideH, g.inH); ph++) {
    for (let pw = 0; pw < Math.min(g.strideW, g.inW); pw++) {
      const h = axis(ph, g.strideH, g.padT, g.kH, g.inH);
      const w = axis(pw, g.strideW, g.padL, g.kW, g.inW);
      const { kernel, workgroups } = conv2dBackwardDataPhaseKernels.pick(ctx.device, g.inC / g.groups, g.batch * h.rows * w.rows, g.groups);
      ctx.dispatch(
        kernel.program({
          ...args,
          uniforms: {
            ...args.uniforms,
            phase_h: ph, phase_w: pw, rows_h: h.rows, rows_w: w.rows, tap0_h: h.tap0, tap0_w: w.tap0,
            taps_h: h.taps, taps_w: w.taps, shift_h: h.shift, shift_w: w.shift,
          },
          workgroups,
          flops: 2 * g.batch * h.rows * w.rows * g.inC * (g.outC / g.groups) * h.taps * w.taps,
        }),
      );
    }
  }
}

/** A zero bias of each length, made once: every plan of a model binds the same weight buffer. */
const zeroBiases = new Map<number, Constant>();
function zeroBias(ctx: KernelContext, channels: number): TensorRef {
  let bias = zeroBiases.get(channels);
  if (!bias) {
    bias = { dtype: 'float32', shape: [channels], data: new Float32Array(channels) };
    zeroBiases.set(channels, bias);
  }
  return ctx.constant(bias, 'zero bias');
}

/** Multiply-adds x 2 of the forward pass; backward-data does the same work. */
const convFlops = (g: ConvGeometry) => 2 * g.batch * g.outC * g.outH * g.outW * (g.inC / g.groups) * g.kH * g.kW;

export const conv: OpDef<ConvGeometry> = {
  versions: { Conv: [1, 11] },
  geometry,
  dataInputs: [0],

  inferShapes: (_, g) => [[g.batch, g.outC, g.outH, g.outW]],

  // Every forward path stores through activated(); only a pointwise conv whose input is split along K
  // (partial sums added into the output) could not, and that needs an input above one binding.
  fusesActivation: (g, device) => !(isPointwise(g) || isSubsampledPointwise(g)) || g.batch * g.inC * g.outH * g.outW * 4 <= device.maxBindingBytes,

  forward(ctx) {
    const g = ctx.geometry;
    const bias: TensorRef = ctx.inputs[2]?.ref ?? zeroBias(ctx, g.outC);
    const bindings = { x: ctx.inputs[0]!.ref, weight: ctx.inputs[1]!.ref, bias, y: ctx.outputs[0].ref };
    const activation = ctx.outputActivation;
    const uniforms = { ...convUniforms(g), ...fusedUniforms(activation) };
    if (isDepthwise(g)) {
      const run = depthwiseRun(g.outW);
      const defines = { RUN: String(run), KW: String(g.kW), SW: String(g.strideW), DW: String(g.dilW) };
      ctx.dispatch(depthwiseConv2dKernel.program({ uniforms, bindings, defines, count: g.batch * g.outC * g.outH * ceilDiv(g.outW, run), flops: convFlops(g) }));
      return;
    }
    if (winogradFits(ctx)) {
      const u = ctx.constant(winogradWeights(ctx.inputs[1]!.constant!, false), 'winograd filters');
      const src = { ref: bindings.x, channels: g.inC, h: g.inH, w: g.inW, padT: g.padT, padL: g.padL };
      winograd(ctx, src, u, { ref: bindings.y, channels: g.outC, h: g.outH, w: g.outW, accumulate: false, activation }, bias, g.batch);
      return;
    }
    if (isPointwise(g) || isSubsampledPointwise(g)) {
      const plane = g.outH * g.outW;
      let x = bindings.x;
      if (!isPointwise(g)) {
        const shape = [g.batch, g.inC, g.outH, g.outW];
        x = ctx.scratch(shape, 'subsampled input');
        const strides = [g.inC * g.inH * g.inW, g.inH * g.inW, g.strideH * g.inW, g.strideW];
        stridedCopy(ctx, shape, { ref: bindings.x, offset: 0, strides }, contiguousView(x, shape), false);
      }
      dispatchGemm(ctx, {
        m: g.outC, n: plane, k: g.inC, batch: g.batch,
        left: view(bindings.weight, g.inC, 1),
        right: view(x, plane, 1, g.inC * plane),
        out: view(bindings.y, plane, 1, g.outC * plane),
        bias: view(bias, 1, 0),
        alpha: 1, beta: 1, accumulate: false, activation,
      });
      return;
    }
    const { kernel, workgroups } = conv2dKernels.pick(ctx.device, g.outC / g.groups, g.batch * g.outH * g.outW, g.groups);
    ctx.dispatch(kernel.program({ uniforms, bindings, workgroups, flops: convFlops(g) }));
  },

  tangent(ctx) {
    linearTangent(ctx, conv.forward, { linear: [0], optional: [2] });
  },

  backward(ctx: BackwardContext<ConvGeometry>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const g = ctx.geometry;
    const args = { uniforms: convUniforms(g), bindings: { dy, weight: ctx.inputs[1]!.ref, dx: dx.ref }, accumulate: dx.accumulate };
    if (isDepthwise(g)) {
      const { run, defines } = depthwiseBackwardDefines(g);
      ctx.dispatch(depthwiseConv2dBackwardDataKernel.program({ ...args, defines, count: g.batch * g.inC * g.inH * ceilDiv(g.inW, run), flops: convFlops(g) }));
      return;
    }
    if (winogradFits(ctx)) {
      // dx is the convolution of dy, padded by 2 - pad, with the filters transposed and rotated.
      const u = ctx.constant(winogradWeights(ctx.inputs[1]!.constant!, true), 'winograd backward filters');
      const src = { ref: dy, channels: g.outC, h: g.outH, w: g.outW, padT: 2 - g.padT, padL: 2 - g.padL };
      winograd(ctx, src, u, { ref: dx.ref, channels: g.inC, h: g.inH, w: g.inW, accumulate: dx.accumulate }, zeroBias(ctx, g.inC), g.batch);
      return;
    }
    if (isPointwise(g)) {
      // dx [in, H*W] (+)= W^T [in, out] . dy [out, H*W], per image.
      const plane = g.inH * g.inW;
      dispatchGemm(ctx, {
        m: g.inC, n: plane, k: g.outC, batch: g.batch,
        left: view(args.bindings.weight, 1, g.inC),
        right: view(dy, plane, 1, g.outC * plane),
        out: view(dx.ref, plane, 1, g.inC * plane),
        alpha: 1, beta: 0, accumulate: dx.accumulate,
      });
      return;
    }
    if ((g.strideH > 1 || g.strideW > 1) && g.dilH === 1 && g.dilW === 1) {
      stridedBackwardData(ctx, args);
      return;
    }
    const { kernel, workgroups } = conv2dBackwardDataKernels.pick(ctx.device, g.inC / g.groups, g.batch * g.inH * g.inW, g.groups);
    ctx.dispatch(kernel.program({ ...args, workgroups, flops: convFlops(g) }));
  },
};
