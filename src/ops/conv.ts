// Conv (2-D, any kernel, stride, pads, dilation, groups, optional bias). Dense and grouped convolutions
// run as an implicit GEMM (gemm_tiled on GPUs, gemm_registers on CPU adapters); depthwise ones run a
// direct kernel. Backward: data gradient only (the weights are constants of the explained model).
import { attrInt } from '../graph/ir.js';
import { ceilDiv, gridFor, Params, type TensorRef } from '../plan/program.js';
import type { BackwardContext, DeviceTraits, KernelContext, OpDef } from './types.js';
import { kernelShape, requireRank4, type Window2d, window2d } from './window.js';

interface ConvGeometry extends Window2d {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  groups: number;
}

function geometry(ctx: { node: KernelContext['node']; inputs: KernelContext['inputs'] }): ConvGeometry {
  const [batch, inC, inH, inW] = ctx.inputs[0]!.shape;
  const [outC, , kH, kW] = ctx.inputs[1]!.shape;
  const groups = attrInt(ctx.node, 'group', 1);
  return { batch, inC, inH, inW, outC, groups, ...window2d(ctx.node, inH, inW, [kH, kW]) };
}

function convParams(g: ConvGeometry, accumulate: boolean): Params {
  return new Params()
    .u32(g.batch, g.inC, g.inH, g.inW, g.outC, g.outH, g.outW, g.groups)
    .u32(g.kH, g.kW, g.strideH, g.strideW)
    .i32(g.padT, g.padL)
    .u32(g.dilH, g.dilW, accumulate ? 1 : 0);
}

const isDepthwise = (g: ConvGeometry) => g.groups > 1 && g.groups === g.inC;

/** The GEMM body for this adapter and the grid that covers an M x N x batch product with it. */
export function gemmVariant(device: DeviceTraits, m: number, n: number, batch: number): { file: string; workgroups: [number, number, number] } {
  return device.isCpu
    ? { file: 'gemm_registers', workgroups: [ceilDiv(n, 64), ceilDiv(m, 32), batch] }
    : { file: 'gemm_tiled', workgroups: [ceilDiv(n, 64), ceilDiv(m, 64), batch] };
}

export const conv: OpDef = {
  types: ['Conv'],
  dataInputs: [0],

  inferShapes({ node, inputShapes }) {
    const [batch, inC, inH, inW] = requireRank4(node, inputShapes[0]);
    const w = requireRank4(node, inputShapes[1], 'weight');
    const groups = attrInt(node, 'group', 1);
    if (inC % groups !== 0 || w[0] % groups !== 0 || w[1] * groups !== inC) {
      throw new Error(`weight [${w}] with ${groups} group(s) does not match ${inC} input channels`);
    }
    const declared = node.attributes.has('kernel_shape') ? kernelShape(node) : undefined;
    if (declared && (declared[0] !== w[2] || declared[1] !== w[3])) throw new Error(`kernel_shape [${declared}] does not match weight [${w}]`);
    if (inputShapes[2] && (inputShapes[2].length !== 1 || inputShapes[2][0] !== w[0])) throw new Error(`bias [${inputShapes[2]}] does not match ${w[0]} output channels`);
    const win = window2d(node, inH, inW, [w[2], w[3]]);
    return [[batch, w[0], win.outH, win.outW]];
  },

  forward(ctx) {
    const g = geometry(ctx);
    const bias: TensorRef = ctx.inputs[2]?.ref ?? ctx.constant({ dtype: 'float32', shape: [g.outC], data: new Float32Array(g.outC) }, 'zero bias');
    const bindings = [{ tensor: ctx.inputs[0]!.ref }, { tensor: ctx.inputs[1]!.ref }, { tensor: bias }, { tensor: ctx.outputs[0].ref, write: true }];
    if (isDepthwise(g)) {
      ctx.dispatch({ files: ['conv2d_common', 'depthwise_conv2d'], params: convParams(g, false), bindings, workgroups: gridFor(g.batch * g.outC * g.outH * ceilDiv(g.outW, 4)) });
      return;
    }
    const variant = gemmVariant(ctx.device, g.outC / g.groups, g.batch * g.outH * g.outW, g.groups);
    ctx.dispatch({ files: ['conv2d_common', 'conv2d', variant.file], params: convParams(g, false), bindings, workgroups: variant.workgroups });
  },

  backward(ctx: BackwardContext) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const g = geometry(ctx);
    const params = convParams(g, dx.accumulate);
    const bindings = [{ tensor: dy }, { tensor: ctx.inputs[1]!.ref }, { tensor: dx.ref, write: true }];
    if (isDepthwise(g)) {
      ctx.dispatch({ files: ['conv2d_common', 'depthwise_conv2d_backward_data'], params, bindings, workgroups: gridFor(g.batch * g.inC * g.inH * ceilDiv(g.inW, 4)) });
      return;
    }
    const variant = gemmVariant(ctx.device, g.inC / g.groups, g.batch * g.inH * g.inW, g.groups);
    ctx.dispatch({ files: ['conv2d_common', 'conv2d_backward_data', variant.file], params, bindings, workgroups: variant.workgroups });
  },
};
