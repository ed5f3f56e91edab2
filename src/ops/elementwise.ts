// Elementwise ops with two operands (activations are in activations.ts). Add/Sub/Mul/Div/Pow/Max/Min
// and PRelu broadcast like numpy (before opset 7, as the `broadcast` and `axis` attributes say); the
// gradient of a broadcast input is reduced over its broadcast dims by a gather. Identity and
// inference-mode Dropout are views.
import { diagonalTangent, linearTangent } from './tangent.js';
import { attrInt, type Constant, contiguousStrides, elementCount, type Node, type Shape, shapeString } from '../graph/ir.js';
import { fusedUniforms } from '../kernels/fused.js';
import { BINARY_RUN, binaryBackwardKernel, binaryKernel, decisionMarginKernel } from '../kernels/elementwise.js';
import { MAX_RANK } from '../kernels/layout.js';
import { broadcastShapes, broadcastStrides, copyGradient, mergeDims, nodeError } from './common.js';
import { FLOAT_TYPES } from './fold.js';
import type { OpDef, Operand, TangentContext } from './types.js';

function requireInput(node: Node, shape: Shape | undefined, what = 'input'): Shape {
  if (!shape) throw nodeError(node, `missing ${what}`);
  return shape;
}

// ---------------------------------------------------------------------------------------------------
// Views: Identity, Dropout at inference (output = input), and casts between float types

/**
 * The engine computes in float32 throughout: a cast of computed data to another float type keeps it
 * float32 (weights stored narrower are widened at load); a cast to an integer type is refused.
 */
function checkFloatCast(node: Node, constant: (i: number) => Constant | undefined): void {
  const target = node.opType === 'CastLike' ? constant(1)?.dtype : node.attributes.get('to');
  const isFloat = node.opType === 'CastLike' ? target !== 'int64' : FLOAT_TYPES.has(target as number | string);
  if (!isFloat) throw nodeError(node, `a cast of data computed at run time to type ${String(target)} is not supported (only float types)`);
}

export const identity: OpDef = {
  versions: { Identity: [1, 13, 14, 16, 19, 21], Dropout: [1, 6, 7, 10, 12, 13], Cast: [1, 6, 9, 13, 19, 21], CastLike: [15, 19, 21] },
  view: true,
  dataInputs: [0],

  inferShapes({ node, opset, inputShapes, constant }) {
    const shape = requireInput(node, inputShapes[0]);
    if (node.opType === 'Cast' || node.opType === 'CastLike') checkFloatCast(node, constant);
    if (node.opType !== 'Dropout') return [shape];
    const trainingMode = opset >= 12 && node.inputs[2] ? constant(2) : undefined;
    if (opset >= 12 && node.inputs[2] && !trainingMode) throw nodeError(node, 'training_mode must be a constant');
    // In training mode a ratio of 0 still drops nothing (and scales by 1 / (1 - 0)), as torch exports F.dropout(p=0).
    const ratio = node.inputs[1] ? constant(1) : undefined;
    const dropsNothing = ratio !== undefined && Number(ratio.data[0]) === 0;
    if (trainingMode && Number(trainingMode.data[0]) !== 0 && !dropsNothing) throw nodeError(node, 'training_mode is true; the engine runs models for inference only');
    // The mask is not computed: it gets no shape, and a node that reads it is refused by the planner.
    return [shape];
  },

  forward() {},
  backward: copyGradient,
};

// ---------------------------------------------------------------------------------------------------
// Binary ops with numpy broadcasting

/** Invocations of the binary kernel over merged dims `shape`: one per element of one dim, else runs along the last. */
function binaryInvocations(shape: Shape): number {
  if (shape.length <= 1) return elementCount(shape);
  const last = shape[shape.length - 1];
  return (elementCount(shape) / last) * Math.ceil(last / BINARY_RUN);
}

interface BinaryOp {
  /** The result in WGSL, in terms of a and b. */
  formula: string;
  /** dy * d(result)/da and dy * d(result)/db in WGSL, in a, b and g = dy; undefined: no gradient there. */
  gradients: [string, string | undefined];
}

const BINARY: Record<string, BinaryOp> = {
  Add: { formula: 'a + b', gradients: ['g', 'g'] },
  Sub: { formula: 'a - b', gradients: ['g', '-g'] },
  Mul: { formula: 'a * b', gradients: ['g * b', 'g * a'] },
  Div: { formula: 'a / b', gradients: ['g / b', '-(g / b) * (a / b)'] },
  // The exponent is a constant in the models that matter (LayerNorm's x^2): it gets no gradient.
  Pow: { formula: 'power(a, b)', gradients: ['g * b * power(a, b - 1.0)', undefined] },
  // At a tie each side gets half, as PyTorch's maximum/minimum do.
  Max: { formula: 'max(a, b)', gradients: ['g * select(select(0.0, 0.5, a == b), 1.0, a > b)', 'g * select(select(0.0, 0.5, a == b), 1.0, b > a)'] },
  Min: { formula: 'min(a, b)', gradients: ['g * select(select(0.0, 0.5, a == b), 1.0, a < b)', 'g * select(select(0.0, 0.5, a == b), 1.0, b < a)'] },
  // a: the input, b: the slope (broadcast to the input's shape); at 0 the slope side, as PyTorch.
  PRelu: { formula: 'select(a * b, a, a > 0.0)', gradients: ['select(g * b, g, a > 0.0)', 'select(g * a, 0.0, a > 0.0)'] },
};

const BINARY_VERSIONS: Record<keyof typeof BINARY, number[]> = {
  Add: [1, 6, 7, 13, 14],
  Sub: [1, 6, 7, 13, 14],
  Mul: [1, 6, 7, 13, 14],
  Div: [1, 6, 7, 13, 14],
  Pow: [1, 7, 12, 13, 15],
  Max: [1, 6, 8, 12, 13],
  Min: [1, 6, 8, 12, 13],
  PRelu: [1, 6, 7, 9, 16],
};

/**
 * The second operand's shape as the op's version broadcasts it. Before opset 7 (Pow: before 7 too)
 * it broadcasts only with `broadcast=1`, its dims lined up from `axis` of the first (default: the
 * trailing dims), which numpy's rule reaches by appending ones. PRelu before 7 takes a slope per
 * channel; from 7 on the slope broadcasts to the input like numpy, and the result has the input's shape.
 */
function secondOperandShape(node: Node, opset: number, a: Shape, b: Shape): Shape {
  const ones = (n: number) => new Array<number>(Math.max(0, n)).fill(1);
  if (node.opType === 'PRelu') {
    if (opset < 7 && b.length === 1 && a.length > 2 && b[0] === a[1]) return [b[0], ...ones(a.length - 2)];
    return b;
  }
  if (opset >= 7 || !(node.opType in { Add: 1, Sub: 1, Mul: 1, Div: 1, Pow: 1 })) return b;
  if (attrInt(node, 'broadcast', 0) === 0) {
    if (a.join() !== b.join()) throw nodeError(node, `operands [${a}] and [${b}] differ and broadcast is 0`);
    return b;
  }
  const given = node.attributes.has('axis') ? attrInt(node, 'axis') : a.length - b.length;
  const axis = given < 0 ? given + a.length : given;
  if (axis < 0 || axis + b.length > a.length) throw nodeError(node, `axis ${given} does not place [${b}] inside [${a}]`);
  return [...b, ...ones(a.length - axis - b.length)];
}

interface BroadcastLayout {
  shape: Shape;
  a: number[];
  b: number[];
}

/**
 * The output dims with each input's strides (0 where it is broadcast), merged where both inputs
 * broadcast alike (mergeDims), so a same-shape op runs as rank 1 and an SE gate [N,C,1,1] against
 * [N,C,H,W] as rank 2.
 */
function broadcastLayout(outShape: Shape, aShape: Shape, bShape: Shape): BroadcastLayout {
  const { shape, strides } = mergeDims(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
  return { shape, a: strides[0], b: strides[1] };
}

/** (a b)' = a' b + a b' for two inputs that vary: two products into scratch, then their sum. */
function productTangent(ctx: TangentContext<{ outShape: Shape; layout: BroadcastLayout }>): void {
  const [a, b] = ctx.inputs as Operand[];
  const out = ctx.outputs[0];
  const terms = [0, 1].map((i) => {
    const ref = ctx.scratch(out.shape, `tangent term ${i + 1}`);
    const inputs = i === 0 ? [{ ...a, ref: ctx.tangentInput(0)! }, b] : [a, { ...b, ref: ctx.tangentInput(1)! }];
    binary.forward({ ...ctx, inputs, outputs: [{ ref, shape: out.shape }] });
    return { ref, shape: out.shape };
  });
  const sum = { ...ctx.node, opType: 'Add' };
  binary.forward({ ...ctx, node: sum, geometry: { outShape: out.shape, layout: broadcastLayout(out.shape, out.shape, out.shape) }, inputs: terms, outputs: [{ ref: ctx.tangentOutput(0), shape: out.shape }] });
}

export const binary: OpDef<{ outShape: Shape; layout: BroadcastLayout }> = {
  versions: BINARY_VERSIONS,
  dataInputs: [0, 1],

  geometry({ node, opset, inputShapes }) {
    if (node.inputs.length !== 2) throw nodeError(node, `takes 2 inputs here, not ${node.inputs.length}`);
    const a = requireInput(node, inputShapes[0], 'input A');
    const b = secondOperandShape(node, opset, a, requireInput(node, inputShapes[1], 'input B'));
    const outShape = broadcastShapes(a, b);
    if (!outShape) throw nodeError(node, `cannot broadcast ${shapeString(a)} with ${shapeString(inputShapes[1]!)}`);
    if (node.opType === 'PRelu' && outShape.join() !== a.join()) throw nodeError(node, `the slope [${inputShapes[1]}] does not broadcast to the input [${a}]`);
    const layout = broadcastLayout(outShape, a, b);
    if (layout.shape.length > MAX_RANK) throw nodeError(node, `broadcasting needs ${layout.shape.length} dims; at most ${MAX_RANK} are supported`);
    return { outShape, layout };
  },

  inferShapes: (_, g) => [g.outShape],

  // PRelu's derivative jumps where its input crosses 0 (the output has the input's shape). Max and Min
  // jump at ties, which compare two tensors: not measured (their gradient splits evenly there).
  decisionMargin(ctx, target) {
    const dy = ctx.gradOutput(0);
    if (ctx.node.opType !== 'PRelu' || !dy) return false;
    const batch = target.ref.shape[0];
    ctx.dispatch(
      decisionMarginKernel.program({
        uniforms: { per_image: elementCount(dy.shape) / batch, kink_count: 1, kink0: 0, kink1: 0 },
        bindings: { x: ctx.inputs[0]!.ref, dy, margin: target.ref },
        accumulate: target.accumulate,
        workgroups: [batch, 1, 1],
      }),
    );
    return true;
  },

  // A ReLU, Clip, HardSwish or SiLU after it (resnet's residual Add -> ReLU) runs in its write.
  fusesActivation: () => true,

  forward(ctx) {
    const { layout } = ctx.geometry;
    ctx.dispatch(
      binaryKernel.program({
        uniforms: { rank: layout.shape.length, out_shape: layout.shape, a_strides: layout.a, b_strides: layout.b, ...fusedUniforms(ctx.outputActivation) },
        bindings: { a_values: ctx.inputs[0]!.ref, b_values: ctx.inputs[1]!.ref, out: ctx.outputs[0].ref },
        defines: { OP: BINARY[ctx.node.opType].formula },
        count: binaryInvocations(layout.shape),
      }),
    );
  },

  // Linear in each input for Add and Sub, in the one that varies for Mul, in the numerator for Div;
  // PRelu's Jacobian in x is diagonal. The others (and a product of two varying inputs) have a second
  // derivative.
  tangent(ctx) {
    const varying = [0, 1].filter((i) => ctx.tangentInput(i));
    const type = ctx.node.opType;
    if (type === 'Add' || type === 'Sub') return linearTangent(ctx, binary.forward, { linear: [0, 1] });
    if ((type === 'Mul' && varying.length === 1) || (type === 'Div' && varying.join() === '0')) return linearTangent(ctx, binary.forward, { linear: varying });
    if (type === 'Mul') return productTangent(ctx);
    if (type === 'PRelu' && varying.join() === '0') return diagonalTangent(ctx, binary.backward!);
    throw nodeError(ctx.node, `${type} of ${varying.length === 2 ? 'two inputs that vary with the layer' : 'this input'} has a second derivative; Hessian-vector products through it are not implemented yet`);
  },

  // A product of two varying inputs: the tangent pass's gradients of a and b gain dy b' and dy a' (Mul's
  // backward pass with the tangents in place of the inputs, and the first pass's dy).
  secondOrder(ctx) {
    const [ta, tb, dy] = [ctx.tangentInput(0), ctx.tangentInput(1), ctx.firstGradOutput(0)];
    if (ctx.node.opType !== 'Mul' || !ta || !tb || !dy) return;
    const [a, b] = ctx.inputs;
    binary.backward!({ ...ctx, inputs: [{ ...a!, ref: ta }, { ...b!, ref: tb }], gradOutput: (i) => (i === 0 ? dy : undefined) });
  },

  backward(ctx) {
    const dy = ctx.gradOutput(0);
    if (!dy) return;
    const { layout } = ctx.geometry;
    BINARY[ctx.node.opType].gradients.forEach((gradient, i) => {
      // One gradInput call per contribution: for x * x the second call accumulates onto the first.
      const dx = ctx.gradInput(i);
      if (!dx) return;
      if (!gradient) throw nodeError(ctx.node, `the gradient would flow into the exponent "${ctx.node.inputs[i]}"; only the base of Pow is differentiated`);
      const target = i === 0 ? layout.a : layout.b;
      ctx.dispatch(
        binaryBackwardKernel.program({
          uniforms: {
            rank: layout.shape.length,
            reduce_count: layout.shape.reduce((n, dim, d) => (target[d] === 0 ? n * dim : n), 1),
            out_shape: layout.shape,
            out_strides: contiguousStrides(layout.shape),
            a_strides: layout.a,
            b_strides: layout.b,
            target_strides: target,
          },
          bindings: { a_values: ctx.inputs[0]!.ref, b_values: ctx.inputs[1]!.ref, dy, dx: dx.ref },
          defines: { GRAD: gradient },
          accumulate: dx.accumulate,
          count: elementCount(ctx.inputs[i]!.shape),
        }),
      );
    });
  },
};
