// Conv (2-D, any kernel, stride, pads, dilation, groups, optional bias). Dense and grouped convolutions
// run as an implicit GEMM (gemm_tiled on GPUs, gemm_registers on CPU adapters); depthwise ones run a
// direct kernel. Backward: data gradient only (the weights are constants of the explained model).
import { attrInt } from '../graph/ir.js';
import { conv2dBackwardDataKernels, conv2dKernels, DEPTHWISE_RUN, depthwiseConv2dBackwardDataKernel, depthwiseConv2dKernel } from '../kernels/conv.js';
import { ceilDiv, type TensorRef } from '../kernels/program.js';
import { nodeError } from './common.js';
import { dispatchGemm, view } from './matmul.js';
import type { BackwardContext, OpDef, ShapeContext } from './types.js';
import { kernelShape, requireRank4, type Window2d, window2d } from './window.js';

interface ConvGeometry extends Window2d {
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

/** Multiply-adds x 2 of the forward pass; backward-data does the same work. */
const convFlops = (g: ConvGeometry) => 2 * g.batch * g.outC * g.outH * g.outW * (g.inC / g.groups) * g.kH * g.kW;

export const conv: OpDef<ConvGeometry> = {
  types: ['Conv'],
  geometry,
  dataInputs: [0],

  inferShapes: (_, g) => [[g.batch, g.outC, g.outH, g.outW]],

  forward(ctx) {
    const g = ctx.geometry;
    const bias: TensorRef = ctx.inputs[2]?.ref ?? ctx.constant({ dtype: 'float32', shape: [g.outC], data: new Float32Array(g.outC) }, 'zero bias');
    const bindings = { x: ctx.inputs[0]!.ref, weight: ctx.inputs[1]!.ref, bias, y: ctx.outputs[0].ref };
    const uniforms = convUniforms(g);
    if (isDepthwise(g)) {
      ctx.dispatch(depthwiseConv2dKernel.program({ uniforms, bindings, count: g.batch * g.outC * g.outH * ceilDiv(g.outW, DEPTHWISE_RUN), flops: convFlops(g) }));
      return;
    }
    if (isPointwise(g)) {
      const plane = g.inH * g.inW;
      dispatchGemm(ctx, {
        m: g.outC, n: plane, k: g.inC, batch: g.batch,
        left: view(bindings.weight, g.inC, 1),
        right: view(bindings.x, plane, 1, g.inC * plane),
        out: view(bindings.y, plane, 1, g.outC * plane),
        bias: view(bias, 1, 0),
        alpha: 1, beta: 1, accumulate: false,
      });
      return;
    }
    const { kernel, workgroups } = conv2dKernels.pick(ctx.device, g.outC / g.groups, g.batch * g.outH * g.outW, g.groups);
    ctx.dispatch(kernel.program({ uniforms, bindings, workgroups, flops: convFlops(g) }));
  },

  backward(ctx: BackwardContext<ConvGeometry>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const g = ctx.geometry;
    const args = { uniforms: convUniforms(g), bindings: { dy, weight: ctx.inputs[1]!.ref, dx: dx.ref }, accumulate: dx.accumulate };
    if (isDepthwise(g)) {
      ctx.dispatch(depthwiseConv2dBackwardDataKernel.program({ ...args, count: g.batch * g.inC * g.inH * ceilDiv(g.inW, DEPTHWISE_RUN), flops: convFlops(g) }));
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
    const { kernel, workgroups } = conv2dBackwardDataKernels.pick(ctx.device, g.inC / g.groups, g.batch * g.inH * g.inW, g.groups);
    ctx.dispatch(kernel.program({ ...args, workgroups, flops: convFlops(g) }));
  },
};
