// Elementwise ops. Activations share one template whose formula is a define (one pipeline per op
// kind) with the op's constants (alpha, beta, clip bounds) as uniforms; their backward multiplies dy by
// the derivative taken from x or y, whichever gives it exactly. Add/Sub/Mul/Div/Pow broadcast like
// numpy; the gradient of a broadcast input is reduced over its broadcast dims by a gather. Identity and
// inference-mode Dropout are views.
import { attrFloat, type Constant, contiguousStrides, elementCount, type Node, type Shape, shapeString } from '../graph/ir.js';
import { binaryBackwardKernel, binaryKernel, decisionMarginKernel, unaryBackwardKernel, unaryKernel } from '../kernels/elementwise.js';
import { MAX_RANK } from '../kernels/layout.js';
import { copyGradient, mergeDims, nodeError } from './common.js';
import type { KernelContext, OpDef } from './types.js';

function requireInput(node: Node, shape: Shape | undefined, what = 'input'): Shape {
  if (!shape) throw nodeError(node, `missing ${what}`);
  return shape;
}

// ---------------------------------------------------------------------------------------------------
// Activations

/** Where an activation's derivative is read from: the input x or the output y. */
type Saved = 'x' | 'y';

interface Activation {
  /** f(x) in WGSL; the op's constants are P.alpha and P.beta. */
  formula: string;
  /** f' in WGSL, in terms of v: the saved forward value. */
  derivative: string;
  saved: Saved;
}

/**
 * Guided back-propagation's ReLU passes a gradient only where it is positive. A positive denormal
 * counts as zero on every adapter: GPUs that flush denormals would read it so, lavapipe would not.
 */
const GUIDED_PASS = 'dy[index] >= 1.17549435e-38';

const ACTIVATIONS: Record<string, Activation> = {
  Relu: { formula: 'max(x, 0.0)', derivative: 'select(0.0, 1.0, v > 0.0)', saved: 'y' },
  LeakyRelu: { formula: 'select(P.alpha * x, x, x >= 0.0)', derivative: 'select(P.alpha, 1.0, v > 0.0)', saved: 'x' },
  // min(max()) rather than clamp(): when min > max, ONNX asks for max everywhere (clamp is undefined).
  Clip: { formula: 'min(max(x, P.alpha), P.beta)', derivative: 'select(0.0, 1.0, v > P.alpha && v < P.beta)', saved: 'x' },
  Sigmoid: { formula: '1.0 / (1.0 + exp(-x))', derivative: 'v * (1.0 - v)', saved: 'y' },
  HardSigmoid: {
    formula: 'clamp(P.alpha * x + P.beta, 0.0, 1.0)',
    derivative: 'select(0.0, P.alpha, P.alpha * v + P.beta > 0.0 && P.alpha * v + P.beta < 1.0)',
    saved: 'x',
  },
  HardSwish: {
    formula: 'x * clamp(x / 6.0 + 0.5, 0.0, 1.0)',
    derivative: 'clamp(v / 6.0 + 0.5, 0.0, 1.0) + select(0.0, v / 6.0, abs(v) < 3.0)',
    saved: 'x',
  },
  // tanh(+-10) is already +-1 in float32; the clamp guards drivers whose tanh goes through exp(2x) (inf/inf).
  Tanh: { formula: 'tanh(clamp(x, -10.0, 10.0))', derivative: '1.0 - v * v', saved: 'y' },
  Erf: { formula: 'erf(x)', derivative: '1.1283791671 * exp(-v * v)', saved: 'x' },
  Sqrt: { formula: 'sqrt(x)', derivative: '0.5 / v', saved: 'y' },
};

/** The op's constants as the uniforms alpha and beta. */
function activationConstants(node: Node, opset: number, constant: (i: number) => Constant | undefined): [number, number] {
  switch (node.opType) {
    case 'LeakyRelu':
      return [attrFloat(node, 'alpha', 0.01), 0];
    case 'HardSigmoid':
      return [attrFloat(node, 'alpha', 0.2), attrFloat(node, 'beta', 0.5)];
    case 'Clip':
      return clipBounds(node, opset, constant);
    default:
      return [0, 0];
  }
}

/** Clip's bounds: attributes before opset 11, optional constant inputs from 11 on; absent = unbounded. */
function clipBounds(node: Node, opset: number, constant: (i: number) => Constant | undefined): [number, number] {
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

function activationUniforms(ctx: KernelContext<[number, number]>) {
  const [alpha, beta] = ctx.geometry;
  return { alpha, beta };
}

/** Where each activation's derivative jumps, from the same constants as its formulas. */
function activationKinks(node: Node, [alpha, beta]: [number, number]): number[] {
  switch (node.opType) {
    case 'Relu':
    case 'LeakyRelu':
      return [0];
    case 'Clip':
      return [alpha, beta].filter(Number.isFinite);
    case 'HardSigmoid':
      return alpha === 0 ? [] : [-beta / alpha, (1 - beta) / alpha];
    case 'HardSwish':
      return [-3, 3];
    default:
      return [];
  }
}

export const activations: OpDef<[number, number]> = {
  types: Object.keys(ACTIVATIONS),
  dataInputs: [0],
  // The op's constants (alpha, beta), read once; bad Clip bounds are rejected at load time.
  geometry: ({ node, opset, constant }) => activationConstants(node, opset, constant),
  // What a producer can store instead (shaders/fused_activation.wgsl): Clip is min(max(x, alpha), beta),
  // ReLU the same with 0 and no upper bound.
  asFusedActivation(node, [alpha, beta]) {
    if (node.opType === 'Relu') return { kind: 'clamp', low: 0, high: Infinity };
    if (node.opType === 'Clip') return { kind: 'clamp', low: alpha, high: beta };
    if (node.opType === 'HardSwish') return { kind: 'hardswish' };
    return undefined;
  },

  decisionMargin(ctx, target) {
    const kinks = activationKinks(ctx.node, ctx.geometry);
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
    if (ctx.guided && ctx.node.opType === 'Relu') {
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

  inferShapes: ({ node, inputShapes }) => [requireInput(node, inputShapes[0])],

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
        defines: { GRAD: act.derivative, PASS: ctx.guided && ctx.node.opType === 'Relu' ? GUIDED_PASS : 'true' },
        accumulate: dx.accumulate,
        count: elementCount(dy.shape),
      }),
    );
  },
};

// ---------------------------------------------------------------------------------------------------
// Views: Identity, and Dropout at inference (output = input)

export const identity: OpDef = {
  types: ['Identity', 'Dropout'],
  view: true,
  dataInputs: [0],

  inferShapes({ node, opset, inputShapes, constant }) {
    const shape = requireInput(node, inputShapes[0]);
    if (node.opType !== 'Dropout') return [shape];
    const trainingMode = opset >= 12 && node.inputs[2] ? constant(2) : undefined;
    if (opset >= 12 && node.inputs[2] && !trainingMode) throw nodeError(node, 'training_mode must be a constant');
    if (trainingMode && Number(trainingMode.data[0]) !== 0) throw nodeError(node, 'training_mode is true; the engine runs models for inference only');
    // The mask is not computed: it gets no shape, and a node that reads it is refused by the planner.
    return [shape];
  },

  forward() {},
  backward: copyGradient,
};

// ---------------------------------------------------------------------------------------------------
// Binary ops with numpy broadcasting

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
};

/** numpy's broadcast of two shapes; undefined when they do not broadcast. */
export function broadcastShape(a: Shape, b: Shape): Shape | undefined {
  const rank = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let d = 0; d < rank; d++) {
    const da = a[a.length - rank + d] ?? 1;
    const db = b[b.length - rank + d] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
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
  const stridesIn = (s: Shape) => {
    const padded = [...new Array<number>(outShape.length - s.length).fill(1), ...s];
    const strides = contiguousStrides(padded);
    return padded.map((dim, d) => (dim === 1 ? 0 : strides[d]));
  };
  const { shape, strides } = mergeDims(outShape, [stridesIn(aShape), stridesIn(bShape)]);
  return { shape, a: strides[0], b: strides[1] };
}

export const binary: OpDef<{ outShape: Shape; layout: BroadcastLayout }> = {
  types: Object.keys(BINARY),
  dataInputs: [0, 1],

  geometry({ node, inputShapes }) {
    const a = requireInput(node, inputShapes[0], 'input A');
    const b = requireInput(node, inputShapes[1], 'input B');
    const outShape = broadcastShape(a, b);
    if (!outShape) throw nodeError(node, `cannot broadcast ${shapeString(a)} with ${shapeString(b)}`);
    const layout = broadcastLayout(outShape, a, b);
    if (layout.shape.length > MAX_RANK) throw nodeError(node, `broadcasting needs ${layout.shape.length} dims; at most ${MAX_RANK} are supported`);
    return { outShape, layout };
  },

  inferShapes: (_, g) => [g.outShape],

  forward(ctx) {
    const { layout } = ctx.geometry;
    ctx.dispatch(
      binaryKernel.program({
        uniforms: { rank: layout.shape.length, out_shape: layout.shape, a_strides: layout.a, b_strides: layout.b },
        bindings: { a_values: ctx.inputs[0]!.ref, b_values: ctx.inputs[1]!.ref, out: ctx.outputs[0].ref },
        defines: { OP: BINARY[ctx.node.opType].formula },
        count: elementCount(ctx.outputs[0].shape),
      }),
    );
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
