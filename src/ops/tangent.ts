// The shapes of the ops' forward-mode rules (OpDef.tangent), d/de op(x + e x'), for the ops whose
// second derivative is zero away from their kinks:
// - linear ops (Conv, Gemm with a constant weight, pooling by averages, Add, Concat, reductions by
//   sums): the forward pass itself on the tangents, with the additive constants (biases) zeroed;
// - ops with a diagonal Jacobian (the element-wise activations, inference BatchNormalization): the
//   backward pass on the tangent, f'(x) x', which is the tangent;
// - MaxPool: the tangent at the position the forward pass chose (its own kernel).
import { elementCount, type Shape } from '../graph/ir.js';
import { nodeError } from './common.js';
import type { BackwardContext, KernelContext, Operand, TangentContext } from './types.js';

const zeros = (shape: Shape) => ({ dtype: 'float32' as const, shape, data: new Float32Array(elementCount(shape)) });

/** A rule's refusal of an input it takes as a constant parameter that varies with the layer. */
const varyingParameter = (ctx: TangentContext, i: number) =>
  nodeError(ctx.node, `input ${i} varies with the layer; ${ctx.node.opType}'s Hessian-vector products are implemented for a constant one`);

/**
 * The forward pass on the tangents: `linear` inputs take their tangents (zeros where they have none),
 * `additive` ones are dropped (an optional bias) or zeroed; every other input is a parameter the op is
 * linear in the others with, and must not vary with the layer.
 */
export function linearTangent<G>(ctx: TangentContext<G>, forward: (c: KernelContext<G>) => void, inputs: { linear: number[]; additive?: number[]; optional?: number[] }): void {
  const operands = ctx.inputs.map((operand, i): Operand | undefined => {
    if (!operand) return undefined;
    const tangent = ctx.tangentInput(i);
    if (inputs.linear.includes(i)) return { ref: tangent ?? ctx.constant(zeros(operand.shape), 'zero tangent'), shape: operand.shape };
    if (tangent) throw varyingParameter(ctx, i);
    if (inputs.optional?.includes(i)) return undefined;
    if (inputs.additive?.includes(i)) {
      const zero = zeros(operand.shape);
      return { ref: ctx.constant(zero, 'zero tangent'), shape: operand.shape, constant: zero };
    }
    return operand;
  });
  forward({ ...ctx, inputs: operands, outputs: ctx.outputs.map((o, i) => ({ ref: ctx.tangentOutput(i), shape: o.shape })), saved: {}, outputActivation: undefined });
}

/** The backward pass of input 0 applied to its tangent: f'(x) x' for an op with a diagonal Jacobian. */
export function diagonalTangent<G>(ctx: TangentContext<G>, backward: (c: BackwardContext<G>) => void): void {
  ctx.inputs.forEach((_, i) => {
    if (i > 0 && ctx.tangentInput(i)) throw varyingParameter(ctx, i);
  });
  const tangent = ctx.tangentInput(0);
  if (!tangent) throw new Error(`${ctx.node.opType} node "${ctx.node.name}": a tangent rule called without a tangent`);
  backward({
    ...ctx,
    guided: false,
    gradOutput: (i) => (i === 0 ? tangent : undefined),
    gradInput: (i) => (i === 0 ? { ref: ctx.tangentOutput(0), accumulate: false } : undefined),
  });
}
