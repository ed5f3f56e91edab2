// Normalizations over the channel axis of [N, C, ...] tensors: LRN (AlexNet, GoogLeNet) and
// BatchNormalization in inference mode (running statistics). BatchNormalization after a Conv is
// usually folded into the conv at load time (ops/optimize.ts); this op runs the ones that remain.
import { diagonalTangent } from './tangent.js';
import { attrFloat, attrInt, elementCount, type Node, type Shape } from '../graph/ir.js';
import { fusedUniforms } from '../kernels/fused.js';
import { BATCH_NORM_RUN, batchNormBackwardKernel, batchNormKernel, lrnBackwardKernel, lrnKernel } from '../kernels/normalization.js';
import { nodeError } from './common.js';
import type { BackwardContext, KernelContext, OpDef } from './types.js';

function requireChannels(node: Node, shape: Shape | undefined): Shape {
  if (!shape || shape.length < 2) {
    throw nodeError(node, `input must be N x C x ..., got ${shape ? `[${shape}]` : 'nothing'}`);
  }
  return shape;
}

/** Channels and the number of elements per channel and sample, the layout both ops index by. */
function channelLayout(shape: Shape) {
  return { channels: shape[1], inner: elementCount(shape.slice(2)) };
}

function lrnUniforms(ctx: KernelContext) {
  const { node } = ctx;
  const size = attrInt(node, 'size');
  return {
    ...channelLayout(ctx.inputs[0]!.shape),
    lo: Math.floor((size - 1) / 2),
    hi: Math.ceil((size - 1) / 2),
    alpha_over_size: attrFloat(node, 'alpha', 1e-4) / size,
    beta: attrFloat(node, 'beta', 0.75),
    bias: attrFloat(node, 'bias', 1),
  };
}

export const lrn: OpDef = {
  versions: { LRN: [1, 13] },

  inferShapes({ node, inputShapes }) {
    const size = node.attributes.get('size');
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      throw nodeError(node, 'attribute "size" must be a positive integer');
    }
    return [requireChannels(node, inputShapes[0])];
  },

  forward(ctx) {
    const x = ctx.inputs[0]!;
    ctx.dispatch(lrnKernel.program({ uniforms: lrnUniforms(ctx), bindings: { x: x.ref, y: ctx.outputs[0].ref }, count: elementCount(x.shape) }));
  },

  backward(ctx: BackwardContext) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const x = ctx.inputs[0]!;
    ctx.dispatch(
      lrnBackwardKernel.program({
        uniforms: lrnUniforms(ctx),
        bindings: { x: x.ref, dy, dx: dx.ref },
        accumulate: dx.accumulate,
        count: elementCount(x.shape),
      }),
    );
  },
};

const BN_PARAMETERS = ['scale', 'B', 'mean', 'var'];

/** Why inference-mode BatchNormalization cannot run this node (training mode, per-activation statistics). */
export function unsupportedBatchNorm(node: Node, opset: number): string | undefined {
  if (opset < 9 && attrInt(node, 'spatial', 1) !== 1) return 'spatial=0 (statistics per activation rather than per channel) is not supported';
  if (attrInt(node, 'training_mode', 0) !== 0) return 'training_mode=1 is not supported; export the model in eval mode';
  if (node.outputs.slice(1).some((o) => o !== '')) {
    return 'outputs beyond Y (running or saved statistics) exist only in training mode, which is not supported';
  }
  return undefined;
}

function batchNormUniforms(ctx: KernelContext) {
  return { ...channelLayout(ctx.inputs[0]!.shape), epsilon: attrFloat(ctx.node, 'epsilon', 1e-5) };
}

export const batchNormalization: OpDef = {
  versions: { BatchNormalization: [1, 6, 7, 9, 14, 15] },
  dataInputs: [0],

  // Inference: x scale / sqrt(var + eps) plus constants, a diagonal Jacobian.
  tangent: (ctx) => diagonalTangent(ctx, batchNormalization.backward!),

  inferShapes({ node, opset, inputShapes }) {
    const unsupported = unsupportedBatchNorm(node, opset);
    if (unsupported) throw nodeError(node, unsupported);
    const shape = requireChannels(node, inputShapes[0]);
    BN_PARAMETERS.forEach((what, i) => {
      const s = inputShapes[i + 1];
      if (!s || s.length !== 1 || s[0] !== shape[1]) {
        throw nodeError(node, `${what} must have shape [${shape[1]}], got ${s ? `[${s}]` : 'nothing'}`);
      }
    });
    return [shape];
  },

  // A ReLU or Clip after it (densenet's pre-activation BN -> ReLU -> Conv) runs in its write.
  fusesActivation: () => true,

  forward(ctx) {
    const [x, scale, bias, mean, variance] = ctx.inputs.map((operand) => operand!.ref);
    ctx.dispatch(
      batchNormKernel.program({
        uniforms: { ...batchNormUniforms(ctx), ...fusedUniforms(ctx.outputActivation) },
        bindings: { x, scale, bias, mean, variance, y: ctx.outputs[0].ref },
        count: channelRuns(ctx.inputs[0]!.shape),
      }),
    );
  },

  backward(ctx: BackwardContext) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const [, scale, , , variance] = ctx.inputs.map((operand) => operand!.ref);
    ctx.dispatch(
      batchNormBackwardKernel.program({
        uniforms: batchNormUniforms(ctx),
        bindings: { dy, scale, variance, dx: dx.ref },
        accumulate: dx.accumulate,
        count: channelRuns(ctx.inputs[0]!.shape),
      }),
    );
  },
};

/** Invocations of the BatchNormalization kernels: runs of BATCH_NORM_RUN elements of each channel plane. */
function channelRuns(shape: Shape): number {
  const { inner } = channelLayout(shape);
  return shape[0] * shape[1] * Math.ceil(inner / BATCH_NORM_RUN);
}
