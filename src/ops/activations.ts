// Activations: one record per op holds everything about it (its ONNX versions, formula, derivative, the
// constants it reads, where its derivative jumps, what a producer can apply in its place, its guided
// rule). One template runs them all with the formula as a define (one pipeline per op kind) and the
// op's constants as the uniforms alpha and beta; the backward multiplies dy by the derivative taken from
// x or y, whichever gives it exactly.
import { diagonalTangent } from './tangent.js';
import { attrFloat, attrString, type Constant, elementCount, type Node, shapeString } from '../graph/ir.js';
import { decisionMarginKernel, unaryBackwardKernel, unaryKernel, unarySecondOrderKernel } from '../kernels/elementwise.js';
import type { FusedActivation } from '../kernels/fused.js';
import { nodeError } from './common.js';
import type { KernelContext, OpDef } from './types.js';

type Constants = [alpha: number, beta: number];
type ConstantReader = (node: Node, opset: number, constant: (i: number) => Constant | undefined) => Constants;

interface Activation {
  /** ONNX versions implemented (each changed types or dropped `consumed_inputs`, not the formula). */
  versions: number[];
  /** f(x) in WGSL; the op's constants are P.alpha and P.beta. */
  formula: string;
  /** f' in WGSL, in terms of v: the saved forward value, x or y. */
  derivative: string;
  saved: 'x' | 'y';
  /**
   * f'' in WGSL, in terms of the same v (Hessian-vector products' second-order term,
   * shaders/unary_second_order.wgsl); none for the piecewise-linear ops, whose f'' is zero away from
   * their kinks, and for the ops that refuse Hessian-vector products.
   */
  second?: string;
  /** The op's constants (alpha, beta) from its attributes or inputs; default none. */
  constants?: ConstantReader;
  /** Where the derivative jumps, for the decision margins (src/explain/stability.ts). */
  kinks?: (c: Constants) => number[];
  /** What a producer can store instead of running this op (src/plan/fusion.ts). */
  fused?: (c: Constants) => FusedActivation;
  /**
   * Guided back-propagation's rule for this op (Springenberg et al.: only ReLU has one), the condition
   * under which the gradient passes; every other op keeps its ordinary gradient.
   */
  guided?: string;
}

const attrs = (alpha: [string, number], beta?: [string, number]): ConstantReader =>
  (node) => [attrFloat(node, alpha[0], alpha[1]), beta ? attrFloat(node, beta[0], beta[1]) : 0];

/** A kink at 0 (ReLU-like ops). */
const ZERO: () => number[] = () => [0];

// SELU's constants, as ONNX states them (float32 values of PyTorch's).
const SELU_ALPHA = 1.67326319217681884765625;
const SELU_GAMMA = 1.05070102214813232421875;

/**
 * A positive denormal counts as zero in the guided rule on every adapter: GPUs that flush denormals
 * would read it so, lavapipe would not.
 */
const GUIDED_PASS = 'dy[index] >= 1.17549435e-38';

// softplus(x) = log(1 + exp(x)) written so that it neither overflows for large x nor loses small ones.
const SOFTPLUS = 'max(x, 0.0) + log(1.0 + exp(-abs(x)))';

export const ACTIVATIONS: Record<string, Activation> = {
  Relu: {
    versions: [1, 6, 13, 14],
    formula: 'max(x, 0.0)',
    derivative: 'select(0.0, 1.0, v > 0.0)',
    saved: 'y',
    kinks: ZERO,
    fused: () => ({ kind: 'clamp', low: 0, high: Infinity }),
    guided: GUIDED_PASS,
  },
  LeakyRelu: {
    versions: [1, 6, 16],
    formula: 'select(P.alpha * x, x, x >= 0.0)',
    derivative: 'select(P.alpha, 1.0, v > 0.0)',
    saved: 'x',
    constants: attrs(['alpha', 0.01]),
    kinks: ZERO,
  },
  // min(max()) rather than clamp(): when min > max, ONNX asks for max everywhere (clamp is undefined).
  Clip: {
    versions: [1, 6, 11, 12, 13],
    formula: 'min(max(x, P.alpha), P.beta)',
    derivative: 'select(0.0, 1.0, v > P.alpha && v < P.beta)',
    saved: 'x',
    constants: clipBounds,
    kinks: ([low, high]) => [low, high].filter(Number.isFinite),
    fused: ([low, high]) => ({ kind: 'clamp', low, high }),
  },
  Sigmoid: { versions: [1, 6, 13], formula: '1.0 / (1.0 + exp(-x))', derivative: 'v * (1.0 - v)', saved: 'y', second: 'v * (1.0 - v) * (1.0 - 2.0 * v)' },
  HardSigmoid: {
    versions: [1, 6],
    formula: 'clamp(P.alpha * x + P.beta, 0.0, 1.0)',
    derivative: 'select(0.0, P.alpha, P.alpha * v + P.beta > 0.0 && P.alpha * v + P.beta < 1.0)',
    saved: 'x',
    constants: attrs(['alpha', 0.2], ['beta', 0.5]),
    kinks: ([alpha, beta]) => (alpha === 0 ? [] : [-beta / alpha, (1 - beta) / alpha]),
  },
  HardSwish: {
    versions: [14],
    formula: 'x * clamp(x / 6.0 + 0.5, 0.0, 1.0)',
    derivative: 'clamp(v / 6.0 + 0.5, 0.0, 1.0) + select(0.0, v / 6.0, abs(v) < 3.0)',
    second: 'select(0.0, 1.0 / 3.0, abs(v) < 3.0)',
    saved: 'x',
    kinks: () => [-3, 3],
    fused: () => ({ kind: 'hardswish' }),
  },
  // tanh(+-10) is already +-1 in float32; the clamp guards drivers whose tanh goes through exp(2x) (inf/inf).
  Tanh: { versions: [1, 6, 13], formula: 'tanh(clamp(x, -10.0, 10.0))', derivative: '1.0 - v * v', saved: 'y', second: '-2.0 * v * (1.0 - v * v)' },
  Erf: { versions: [9, 13], formula: 'erf(x)', derivative: '1.1283791671 * exp(-v * v)', saved: 'x', second: '-2.2567583342 * v * exp(-v * v)' },
  Sqrt: { versions: [1, 6, 13], formula: 'sqrt(x)', derivative: '0.5 / v', saved: 'y', second: '-0.25 / (v * v * v)' },
  // sign(0) is 0: the subgradient PyTorch takes at the kink.
  Abs: { versions: [1, 6, 13], formula: 'abs(x)', derivative: 'sign(v)', saved: 'x', kinks: ZERO },
  Neg: { versions: [1, 6, 13], formula: '-x', derivative: '-1.0', saved: 'x' },
  Exp: { versions: [1, 6, 13], formula: 'exp(x)', derivative: 'v', saved: 'y', second: 'v' },
  Log: { versions: [1, 6, 13], formula: 'log(x)', derivative: '1.0 / v', saved: 'x', second: '-1.0 / (v * v)' },
  Reciprocal: { versions: [1, 6, 13], formula: '1.0 / x', derivative: '-v * v', saved: 'y', second: '2.0 * v * v * v' },
  // Steps: the derivative is 0 wherever it exists, so no gradient reaches past them.
  Ceil: { versions: [1, 6, 13], formula: 'ceil(x)', derivative: '0.0', saved: 'x' },
  Floor: { versions: [1, 6, 13], formula: 'floor(x)', derivative: '0.0', saved: 'x' },
  Elu: {
    versions: [1, 6],
    formula: 'select(P.alpha * (exp(x) - 1.0), x, x > 0.0)',
    derivative: 'select(P.alpha * exp(v), 1.0, v > 0.0)',
    saved: 'x',
    constants: attrs(['alpha', 1]),
    kinks: ([alpha]) => (alpha === 1 ? [] : [0]),
  },
  // Continuously differentiable: its derivative is 1 on both sides of 0.
  Celu: {
    versions: [12],
    formula: 'max(x, 0.0) + min(0.0, P.alpha * (exp(x / P.alpha) - 1.0))',
    derivative: 'select(exp(v / P.alpha), 1.0, v > 0.0)',
    saved: 'x',
    constants: attrs(['alpha', 1]),
  },
  Selu: {
    versions: [1, 6],
    formula: 'P.beta * select(P.alpha * exp(x) - P.alpha, x, x > 0.0)',
    derivative: 'P.beta * select(P.alpha * exp(v), 1.0, v > 0.0)',
    saved: 'x',
    constants: attrs(['alpha', SELU_ALPHA], ['gamma', SELU_GAMMA]),
    kinks: ZERO,
  },
  Softplus: { versions: [1], formula: SOFTPLUS, derivative: '1.0 / (1.0 + exp(-v))', saved: 'x', second: 'exp(-abs(v)) / ((1.0 + exp(-abs(v))) * (1.0 + exp(-abs(v))))' },
  Softsign: { versions: [1], formula: 'x / (1.0 + abs(x))', derivative: '1.0 / ((1.0 + abs(v)) * (1.0 + abs(v)))', saved: 'x' },
  ThresholdedRelu: {
    versions: [10],
    formula: 'select(0.0, x, x > P.alpha)',
    derivative: 'select(0.0, 1.0, v > P.alpha)',
    saved: 'x',
    constants: attrs(['alpha', 1]),
    kinks: ([alpha]) => [alpha],
  },
  // x * tanh(softplus(x)); d/dx = tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2).
  Mish: {
    versions: [18],
    formula: `x * tanh(min(${SOFTPLUS}, 10.0))`,
    derivative: `mish_derivative(v)`,
    saved: 'x',
  },
  // Exact (erf) or tanh approximation, by the 'approximate' attribute as alpha (0 or 1).
  Gelu: {
    versions: [20],
    formula: 'gelu(x, P.alpha)',
    derivative: 'gelu_derivative(v, P.alpha)',
    // The exact form's (the tangent rule refuses the tanh approximation): phi(x) (2 - x^2).
    second: '0.3989422804 * exp(-0.5 * v * v) * (2.0 - v * v)',
    saved: 'x',
    constants: geluMode,
  },
};

function geluMode(node: Node): Constants {
  const mode = attrString(node, 'approximate', 'none');
  if (mode !== 'none' && mode !== 'tanh') throw nodeError(node, `approximate "${mode}" is not one of none, tanh`);
  return [mode === 'tanh' ? 1 : 0, 0];
}

/** Clip's bounds: attributes before opset 11, optional constant inputs from 11 on; absent = unbounded. */
function clipBounds(node: Node, opset: number, constant: (i: number) => Constant | undefined): Constants {
  if (opset < 11) return [attrFloat(node, 'min', -Infinity), attrFloat(node, 'max', Infinity)];
  const bound = (i: number, what: string, absent: number) => {
    if (!node.inputs[i]) return absent;
    const c = constant(i);
    if (!c) throw nodeError(node, `the ${what} bound "${node.inputs[i]}" must be a constant (it is computed at run time)`);
    if (elementCount(c.shape) !== 1) throw nodeError(node, `the ${what} bound must be a scalar, not ${shapeString(c.shape)}`);
    return Number(c.data[0]);
  };
  return [bound(1, 'min', -Infinity), bound(2, 'max', Infinity)];
}

function activationUniforms(ctx: KernelContext<Constants>) {
  const [alpha, beta] = ctx.geometry;
  return { alpha, beta };
}

/** The activations whose second derivative is zero away from their kinks: exact tangents with no second-order term. */
const PIECEWISE_LINEAR = new Set(['Relu', 'LeakyRelu', 'Clip', 'HardSigmoid', 'Abs', 'Neg', 'Ceil', 'Floor', 'ThresholdedRelu']);

export const activations: OpDef<Constants> = {
  versions: Object.fromEntries(Object.entries(ACTIVATIONS).map(([type, a]) => [type, a.versions])),
  dataInputs: [0],

  tangent(ctx) {
    const type = ctx.node.opType;
    const exact = PIECEWISE_LINEAR.has(type) || (ACTIVATIONS[type].second && !(type === 'Gelu' && ctx.geometry[0] !== 0));
    if (!exact) throw nodeError(ctx.node, `${type}${type === 'Gelu' ? "'s tanh approximation" : ''} has no second-derivative rule; Hessian-vector products through it are not implemented yet`);
    diagonalTangent(ctx, activations.backward!);
  },

  secondOrder(ctx) {
    const act = ACTIVATIONS[ctx.node.opType];
    const [tangent, dy, dx] = [ctx.tangentInput(0), ctx.firstGradOutput(0), ctx.gradInput(0)];
    if (!act.second || !tangent || !dy || !dx) return;
    ctx.dispatch(
      unarySecondOrderKernel.program({
        uniforms: activationUniforms(ctx),
        bindings: { saved: act.saved === 'x' ? ctx.inputs[0]!.ref : ctx.outputs[0].ref, tangent, dy, dx: dx.ref },
        defines: { SECOND: act.second },
        accumulate: dx.accumulate,
        count: elementCount(dy.shape),
      }),
    );
  },
  // The op's constants (alpha, beta), read once; bad Clip bounds are rejected at load time.
  geometry: ({ node, opset, constant }) => ACTIVATIONS[node.opType].constants?.(node, opset, constant) ?? [0, 0],
  asFusedActivation: (node, constants) => ACTIVATIONS[node.opType].fused?.(constants),

  decisionMargin(ctx, target) {
    const act = ACTIVATIONS[ctx.node.opType];
    const kinks = act.kinks?.(ctx.geometry) ?? [];
    const dy = ctx.gradOutput(0);
    if (!kinks.length || !dy) return false;
    const batch = target.ref.shape[0];
    ctx.dispatch(
      decisionMarginKernel.program({
        uniforms: { per_image: elementCount(dy.shape) / batch, kink_count: kinks.length, kink0: kinks[0], kink1: kinks[1] ?? 0 },
        bindings: { x: ctx.inputs[0]!.ref, dy, margin: target.ref },
        accumulate: target.accumulate,
        workgroups: [batch, 1, 1],
      }),
    );
    if (ctx.guided && act.guided) {
      // The guided rule's second decision, dy > 0 where the unit is open (y > 0): how close the
      // incoming gradient came to zero, relative to the image's max |dy|.
      ctx.dispatch(
        decisionMarginKernel.program({
          uniforms: { per_image: elementCount(dy.shape) / batch, kink_count: 1, kink0: 0, kink1: 0 },
          bindings: { x: dy, dy: ctx.outputs[0].ref, margin: target.ref },
          accumulate: true,
          workgroups: [batch, 1, 1],
        }),
      );
    }
    return true;
  },

  inferShapes: ({ node, inputShapes }) => {
    if (!inputShapes[0]) throw nodeError(node, 'missing input');
    return [inputShapes[0]];
  },

  forward(ctx) {
    ctx.dispatch(
      unaryKernel.program({
        uniforms: activationUniforms(ctx),
        bindings: { xs: ctx.inputs[0]!.ref, ys: ctx.outputs[0].ref },
        defines: { OP: ACTIVATIONS[ctx.node.opType].formula },
        count: elementCount(ctx.outputs[0].shape),
      }),
    );
  },

  backward(ctx) {
    const dy = ctx.gradOutput(0);
    const dx = ctx.gradInput(0);
    if (!dy || !dx) return;
    const act = ACTIVATIONS[ctx.node.opType];
    ctx.dispatch(
      unaryBackwardKernel.program({
        uniforms: activationUniforms(ctx),
        bindings: { saved: act.saved === 'x' ? ctx.inputs[0]!.ref : ctx.outputs[0].ref, dy, dx: dx.ref },
        defines: { GRAD: act.derivative, PASS: ctx.guided && act.guided ? act.guided : 'true' },
        accumulate: dx.accumulate,
        count: elementCount(dy.shape),
      }),
    );
  },
};
