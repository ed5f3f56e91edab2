// ConvTranspose (2-D, any kernel, stride, pads, dilation, groups, output_padding, output_shape) is the
// data gradient of a Conv: with weight W [C_in, C_out / groups, kH, kW] read as a Conv weight [O = C_in,
// I / groups = C_out / groups, kH, kW], it maps an [N, C_in, H, W] input the way that Conv's backward-data
// maps its output gradient to its input's. So its forward runs the Conv's backward-data paths (strided
// phases, Winograd, the GEMM variants) and its backward the Conv's forward. The bias is added by a
// composition (composite.ts), 1-D forms lift to 2-D (ranks.ts).
import { attrInt, attrInts, attrString, contiguousStrides, elementCount, type Shape } from '../graph/ir.js';
import { nodeError, stridedCopy } from './common.js';
import { conv, type ConvGeometry } from './conv.js';
import type { BackwardContext, KernelContext, OpDef, ShapeContext } from './types.js';

/**
 * The Conv whose backward-data this is: its input is the transposed output [N, C_out, outH, outW],
 * its output the transposed input. Pads from output_shape or auto_pad as ONNX states them.
 */
function geometry({ node, inputShapes }: ShapeContext): ConvGeometry {
  const x = inputShapes[0];
  const w = inputShapes[1];
  if (!x || x.length !== 4) throw nodeError(node, `input must be 4-D NCHW here, got ${x ? `[${x}]` : 'nothing'}`);
  if (!w || w.length !== 4) throw nodeError(node, `weight must be 4-D, got ${w ? `[${w}]` : 'nothing'}`);
  if (node.inputs[2]) throw nodeError(node, 'the bias is added by a separate node (an internal error if seen here)');
  const groups = attrInt(node, 'group', 1);
  const [batch, inC, inH, inW] = x;
  if (w[0] !== inC || inC % groups !== 0) throw nodeError(node, `weight [${w}] with ${groups} group(s) does not match ${inC} input channels`);
  const outC = w[1] * groups;
  const kernel = w.slice(2);
  const declared = attrInts(node, 'kernel_shape');
  if (declared && declared.join() !== kernel.join()) throw nodeError(node, `kernel_shape [${declared}] does not match weight [${w}]`);
  const [strides, dilations] = [attrInts(node, 'strides', [1, 1])!, attrInts(node, 'dilations', [1, 1])!];
  const outputPadding = attrInts(node, 'output_padding', [0, 0])!;
  const outputShape = attrInts(node, 'output_shape');
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads', [0, 0, 0, 0])!;
  const sizes = [inH, inW];
  const effective = kernel.map((k, i) => (k - 1) * dilations[i] + 1);
  const natural = (i: number) => strides[i] * (sizes[i] - 1) + outputPadding[i] + effective[i];
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape ? outputShape.slice(-2) : sizes.map((n, i) => n * strides[i]);
    const total = target.map((t, i) => natural(i) - t);
    const upper = autoPad !== 'SAME_LOWER';
    const begin = total.map((t) => (upper ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    pads = [...begin, ...total.map((t, i) => t - begin[i])];
  } else if (autoPad === 'VALID') {
    pads = [0, 0, 0, 0];
  }
  if (pads.some((p) => p < 0)) throw nodeError(node, `pads [${pads}] are negative: an output larger than the input allows is not supported`);
  if (outputPadding.some((p, i) => p >= Math.max(strides[i], dilations[i]))) throw nodeError(node, `output_padding [${outputPadding}] must be below the stride or dilation`);
  const [outH, outW] = [0, 1].map((i) => natural(i) - pads[i] - pads[i + 2]);
  if (outH <= 0 || outW <= 0) throw nodeError(node, `the output would be ${outH}x${outW}`);
  return {
    batch, inC: outC, inH: outH, inW: outW, outC: inC, groups, outH: inH, outW: inW,
    kH: kernel[0], kW: kernel[1], strideH: strides[0], strideW: strides[1], dilH: dilations[0], dilW: dilations[1],
    padT: pads[0], padL: pads[1], padB: pads[2], padR: pads[3],
  };
}

/** The Conv's view of this node: its x is our output, its y our input. */
function asConv(ctx: KernelContext<ConvGeometry>, x: KernelContext['inputs'][number], y: KernelContext['outputs'][number]): KernelContext<ConvGeometry> {
  return { ...ctx, inputs: [x, ctx.inputs[1]], outputs: [y], outputActivation: undefined };
}

export const convTranspose: OpDef<ConvGeometry> = {
  versions: { ConvTranspose: [1, 11] },
  geometry,
  dataInputs: [0],
  inferShapes: (_, g) => [[g.batch, g.inC, g.inH, g.inW]],

  forward(ctx) {
    const [x] = ctx.inputs;
    const [y] = ctx.outputs;
    const backwardData: BackwardContext<ConvGeometry> = {
      ...asConv(ctx, { ...x!, ref: y.ref, shape: y.shape }, x!),
      gradOutput: () => x!.ref,
      gradInput: () => ({ ref: y.ref, accumulate: false }),
      guided: false,
    };
    conv.backward!(backwardData);
  },

  backward(ctx: BackwardContext<ConvGeometry>) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const x = ctx.inputs[0]!;
    // The Conv's forward stores; a later contribution goes through a scratch and is added.
    const target = dx.accumulate ? ctx.scratch(x.shape, 'ConvTranspose data gradient') : dx.ref;
    conv.forward(asConv(ctx, { ref: dy, shape: ctx.outputs[0].shape }, { ref: target, shape: x.shape }));
    if (dx.accumulate) {
      const flat: Shape = [elementCount(x.shape)];
      stridedCopy(ctx, flat, { ref: target, offset: 0, strides: contiguousStrides(flat) }, { ref: dx.ref, offset: 0, strides: contiguousStrides(flat) }, true);
    }
  },
};
