// MaxPool, AveragePool (2-D: kernel, strides, pads, dilations, ceil_mode, auto_pad, count_include_pad)
// and their global forms, which pool each channel plane of any rank >= 3 as one 1 x (H*W...) window.
// Backward runs as gathers: one invocation per input element collects from the windows that cover it.
import { attrInt, elementCount, type Node, type Shape } from '../graph/ir.js';
import { gridFor, Params } from '../plan/program.js';
import { nodeError } from './common.js';
import type { BackwardContext, KernelContext, OpDef, ShapeContext } from './types.js';
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

function poolParams(g: PoolGeometry, countIncludePad: boolean, accumulate: boolean): Params {
  return new Params()
    .u32(g.planes, g.inH, g.inW, g.outH, g.outW, g.kH, g.kW, g.strideH, g.strideW, g.dilH, g.dilW)
    .i32(g.padT, g.padL, g.padB, g.padR)
    .u32(countIncludePad ? 1 : 0, accumulate ? 1 : 0);
}

function outputShape({ node, inputShapes }: ShapeContext): Shape {
  const shape = inputShapes[0]!;
  const g = geometry(node, shape);
  return isGlobal(node) ? [shape[0], shape[1], ...shape.slice(2).map(() => 1)] : [shape[0], shape[1], g.outH, g.outW];
}

const countIncludePad = (node: Node) => !isGlobal(node) && attrInt(node, 'count_include_pad', 0) !== 0;

const geometryOf = (ctx: KernelContext) => geometry(ctx.node, ctx.inputs[0]!.shape);

export const maxPool: OpDef = {
  types: ['MaxPool', 'GlobalMaxPool'],

  inferShapes(ctx) {
    const { node } = ctx;
    if (node.outputs.length > 1 && node.outputs[1] !== '') {
      throw nodeError(node, `the Indices output ("${node.outputs[1]}") is not supported`);
    }
    return [outputShape(ctx)];
  },

  forward(ctx) {
    const g = geometryOf(ctx);
    const y = ctx.outputs[0];
    // Argmax positions (u32 within the input plane) for the backward pass, whether or not one follows.
    const argmax = ctx.scratch(y.shape, 'argmax');
    ctx.saved.argmax = argmax;
    ctx.dispatch({
      files: ['pool_common', 'max_pool'],
      params: poolParams(g, false, false),
      bindings: [{ tensor: ctx.inputs[0]!.ref }, { tensor: y.ref, write: true }, { tensor: argmax, write: true }],
      workgroups: gridFor(g.planes * g.outH * g.outW),
    });
  },

  backward(ctx: BackwardContext) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const argmax = ctx.saved.argmax;
    if (!argmax) throw new Error(`${ctx.node.opType} node "${ctx.node.name}": backward before forward`);
    const g = geometryOf(ctx);
    ctx.dispatch({
      files: ['pool_common', 'max_pool_backward'],
      params: poolParams(g, false, dx.accumulate),
      bindings: [{ tensor: dy }, { tensor: argmax }, { tensor: dx.ref, write: true }],
      workgroups: gridFor(g.planes * g.inH * g.inW),
    });
  },

  decisionMargin(ctx, target) {
    const dy = ctx.gradOutput(0);
    if (!dy) return false;
    ctx.dispatch({
      files: ['pool_common', 'workgroup_min_max', 'max_pool_margin'],
      params: poolParams(geometryOf(ctx), false, target.accumulate),
      bindings: [{ tensor: ctx.inputs[0]!.ref }, { tensor: dy }, { tensor: target.ref, write: true }],
      workgroups: [target.ref.shape[0], 1, 1],
    });
    return true;
  },
};

export const averagePool: OpDef = {
  types: ['AveragePool', 'GlobalAveragePool'],

  inferShapes: (ctx) => [outputShape(ctx)],

  forward(ctx) {
    const g = geometryOf(ctx);
    ctx.dispatch({
      files: ['pool_common', 'average_pool'],
      params: poolParams(g, countIncludePad(ctx.node), false),
      bindings: [{ tensor: ctx.inputs[0]!.ref }, { tensor: ctx.outputs[0].ref, write: true }],
      workgroups: gridFor(g.planes * g.outH * g.outW),
    });
  },

  backward(ctx: BackwardContext) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const g = geometryOf(ctx);
    ctx.dispatch({
      files: ['pool_common', 'average_pool_backward'],
      params: poolParams(g, countIncludePad(ctx.node), dx.accumulate),
      bindings: [{ tensor: dy }, { tensor: dx.ref, write: true }],
      workgroups: gridFor(g.planes * g.inH * g.inW),
    });
  },
};
