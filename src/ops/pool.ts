// MaxPool, AveragePool (2-D: kernel, strides, pads, dilations, ceil_mode, auto_pad, count_include_pad)
// and their global forms, which pool each channel plane of any rank >= 3 as one 1 x (H*W...) window.
// Backward runs as gathers: one invocation per input element collects from the windows that cover it.
import { attrInt, elementCount, type Node, type Shape } from '../graph/ir.js';
import { averagePoolBackwardKernel, averagePoolKernel, maxPoolBackwardKernel, maxPoolKernel, maxPoolMarginKernel, maxPoolTangentKernel } from '../kernels/pool.js';
import { linearTangent } from './tangent.js';
import { nodeError } from './common.js';
import type { BackwardContext, OpDef, ShapeContext } from './types.js';
import { kernelShape, requireRank4, type Window2d, window2d } from './window.js';

interface PoolGeometry extends Window2d {
  planes: number;
  inH: number;
  inW: number;
}

const isGlobal = (node: Node) => node.opType.startsWith('Global');

function geometry(node: Node, shape: Shape): PoolGeometry {
  if (isGlobal(node)) {
    if (shape.length < 3) throw nodeError(node, `input must be N x C x spatial..., got [${shape}]`);
    const plane = elementCount(shape.slice(2));
    return {
      planes: shape[0] * shape[1], inH: 1, inW: plane,
      kH: 1, kW: plane, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padT: 0, padL: 0, padB: 0, padR: 0, outH: 1, outW: 1,
    };
  }
  const [batch, channels, inH, inW] = requireRank4(node, shape);
  const ceilMode = attrInt(node, 'ceil_mode', 0) !== 0;
  return { planes: batch * channels, inH, inW, ...window2d(node, inH, inW, kernelShape(node), ceilMode) };
}

function poolUniforms(g: PoolGeometry, countIncludePad = false) {
  return {
    planes: g.planes, in_h: g.inH, in_w: g.inW, out_h: g.outH, out_w: g.outW, k_h: g.kH, k_w: g.kW,
    stride_h: g.strideH, stride_w: g.strideW, dil_h: g.dilH, dil_w: g.dilW,
    pad_t: g.padT, pad_l: g.padL, pad_b: g.padB, pad_r: g.padR, count_include_pad: countIncludePad ? 1 : 0,
  };
}

function outputShape({ node, inputShapes }: ShapeContext, g: PoolGeometry): Shape {
  const shape = inputShapes[0]!;
  return isGlobal(node) ? [shape[0], shape[1], ...shape.slice(2).map(() => 1)] : [shape[0], shape[1], g.outH, g.outW];
}

const poolGeometry = ({ node, inputShapes }: ShapeContext) => geometry(node, inputShapes[0]!);

const countIncludePad = (node: Node) => !isGlobal(node) && attrInt(node, 'count_include_pad', 0) !== 0;

export const maxPool: OpDef<PoolGeometry> = {
  versions: { MaxPool: [1, 8, 10, 11, 12], GlobalMaxPool: [1] },
  geometry: poolGeometry,

  inferShapes(ctx, g) {
    const { node } = ctx;
    if (node.outputs.length > 1 && node.outputs[1] !== '') {
      throw nodeError(node, `the Indices output ("${node.outputs[1]}") is not supported`);
    }
    return [outputShape(ctx, g)];
  },

  forward(ctx) {
    const g = ctx.geometry;
    const y = ctx.outputs[0];
    // Argmax positions (u32 within the input plane) for the backward pass, whether or not one follows.
    const argmax = ctx.scratch(y.shape, 'argmax', 'u32');
    ctx.saved.argmax = argmax;
    ctx.dispatch(
      maxPoolKernel.program({ uniforms: poolUniforms(g), bindings: { x: ctx.inputs[0]!.ref, y: y.ref, argmax }, count: g.planes * g.outH * g.outW }),
    );
  },

  backward(ctx: BackwardContext<PoolGeometry>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const argmax = ctx.saved.argmax;
    if (!argmax) throw new Error(`${ctx.node.opType} node "${ctx.node.name}": backward before forward`);
    const g = ctx.geometry;
    ctx.dispatch(
      maxPoolBackwardKernel.program({
        uniforms: poolUniforms(g),
        bindings: { dy, argmax, dx: dx.ref },
        accumulate: dx.accumulate,
        count: g.planes * g.inH * g.inW,
      }),
    );
  },

  tangent(ctx) {
    const argmax = ctx.saved.argmax;
    if (!argmax) throw new Error(`${ctx.node.opType} node "${ctx.node.name}": tangent before forward`);
    const g = ctx.geometry;
    ctx.dispatch(
      maxPoolTangentKernel.program({
        uniforms: poolUniforms(g),
        bindings: { tangent_in: ctx.tangentInput(0)!, argmax, tangent_out: ctx.tangentOutput(0) },
        count: g.planes * g.outH * g.outW,
      }),
    );
  },

  decisionMargin(ctx, target) {
    const dy = ctx.gradOutput(0);
    if (!dy) return false;
    ctx.dispatch(
      maxPoolMarginKernel.program({
        uniforms: poolUniforms(ctx.geometry),
        bindings: { x: ctx.inputs[0]!.ref, dy, margin: target.ref },
        accumulate: target.accumulate,
        workgroups: [target.ref.shape[0], 1, 1],
      }),
    );
    return true;
  },
};

export const averagePool: OpDef<PoolGeometry> = {
  versions: { AveragePool: [1, 7, 10, 11], GlobalAveragePool: [1] },
  geometry: poolGeometry,

  inferShapes: (ctx, g) => [outputShape(ctx, g)],

  forward(ctx) {
    const g = ctx.geometry;
    ctx.dispatch(
      averagePoolKernel.program({
        uniforms: poolUniforms(g, countIncludePad(ctx.node)),
        bindings: { x: ctx.inputs[0]!.ref, y: ctx.outputs[0].ref },
        count: g.planes * g.outH * g.outW,
      }),
    );
  },

  backward(ctx: BackwardContext<PoolGeometry>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const g = ctx.geometry;
    ctx.dispatch(
      averagePoolBackwardKernel.program({
        uniforms: poolUniforms(g, countIncludePad(ctx.node)),
        bindings: { dy, dx: dx.ref },
        accumulate: dx.accumulate,
        count: g.planes * g.inH * g.inW,
      }),
    );
  },

  tangent(ctx) {
    linearTangent(ctx, averagePool.forward, { linear: [0] });
  },
};
