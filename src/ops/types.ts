// The contract every op module fulfils: its shape rule, its forward programs and, for ops that can lie
// between the explained layer and the class score, its backward programs.
import type { Constant, ConstantData, Node, Shape } from '../graph/ir.js';
import type { FusedActivation } from '../kernels/fused.js';
import type { DeviceTraits, ElementType, Program, TensorRef } from '../kernels/program.js';

export type { DeviceTraits };

export interface ShapeContext {
  node: Node;
  opset: number;
  /** Shapes of the inputs; an omitted optional input has shape undefined. */
  inputShapes: (Shape | undefined)[];
  /** The load-time value of input i (weights, axes, shapes), when it has one. */
  constant(i: number): Constant | undefined;
}

export interface Operand {
  ref: TensorRef;
  shape: Shape;
  constant?: Constant;
}

export interface KernelContext<G = unknown> {
  node: Node;
  /** What the op's `geometry` computed for this node at shape inference. */
  geometry: G;
  opset: number;
  device: DeviceTraits;
  /** undefined for an omitted optional input. */
  inputs: (Operand | undefined)[];
  outputs: Operand[];
  dispatch(program: Program): void;
  /** A plan tensor for intermediate results (argmax indices, partial sums). */
  scratch(shape: Shape, label: string, dtype?: ElementType): TensorRef;
  /** A float32 tensor computed at plan time from constants (e.g. a zero bias). */
  constant(value: Constant, label: string): TensorRef;
  /** What forward leaves for backward, per node (e.g. MaxPool's argmax indices). */
  saved: Record<string, TensorRef>;
  /**
   * An activation fused into this node's forward output (only for ops with `fusesActivation`): store
   * its value of v instead of v; outputs[0] is then the activation's output (src/plan/fusion.ts).
   */
  outputActivation?: FusedActivation;
}

export interface GradientTarget {
  ref: TensorRef;
  /** False for the first contribution to this gradient (overwrite), true afterwards (add). */
  accumulate: boolean;
}

export interface BackwardContext<G = unknown> extends KernelContext<G> {
  /** The gradient of the score with respect to output i; undefined if none flows there. */
  gradOutput(i: number): TensorRef | undefined;
  /** Where to put the gradient with respect to input i; undefined when it is not needed. */
  gradInput(i: number): GradientTarget | undefined;
  /**
   * Guided back-propagation (Springenberg et al.): a ReLU passes gradient only where its input is
   * positive and the incoming gradient is positive; every other op keeps its ordinary gradient.
   */
  guided: boolean;
}

/**
 * Forward mode: the tangents of a node's data inputs along a direction (x' = d/de x(A + e v), A the
 * layer), and where its outputs' tangents go. Used by Hessian-vector products (src/plan/builder.ts,
 * addTangent).
 */
export interface TangentContext<G = unknown> extends KernelContext<G> {
  /** The tangent of input i; undefined where it is zero (a constant, or a tensor that the layer does not reach). */
  tangentInput(i: number): TensorRef | undefined;
  /** Where to write the tangent of output i. */
  tangentOutput(i: number): TensorRef;
}

/**
 * The tangent backward pass of a Hessian-vector product at a node whose derivative varies with its
 * inputs: the ordinary backward context of that pass (its gradOutput is the tangent of the gradient),
 * the first pass's gradient of the outputs, and the inputs' tangents.
 */
export interface SecondOrderContext<G = unknown> extends BackwardContext<G> {
  /** The first backward pass's gradient of output i (undefined where none flowed). */
  firstGradOutput(i: number): TensorRef | undefined;
  tangentInput(i: number): TensorRef | undefined;
}

export interface OpDef<G = unknown> {
  /**
   * The ONNX op types this module runs, each with the versions (ONNX's since-versions, src/ops/versions.ts)
   * whose semantics it implements: a model whose opset puts another version in effect is refused.
   */
  versions: Record<string, number[]>;
  /**
   * The node's geometry (window, strides, axes, layout) for these input shapes, with the op's checks:
   * computed once per node at shape inference and handed to inferShapes, fold, forward and backward.
   */
  geometry?(ctx: ShapeContext): G;
  /** The op's one shape rule, used by shape inference and load-time folding alike. */
  inferShapes(ctx: ShapeContext, geometry: G): Shape[];
  /**
   * Load-time evaluation of a node whose inputs are all constants (shape computations): the output
   * values from the input values. View ops need none (their output is the input's data).
   */
  fold?(inputs: Constant[], outShapes: Shape[], geometry: G): ConstantData[];
  /** Emits the forward programs. View ops (Reshape, Flatten, ...) emit none. */
  forward(ctx: KernelContext<G>): void;
  backward?(ctx: BackwardContext<G>): void;
  /**
   * The forward-mode rule, d/de op(x + e x'): with the second-order term below, the tangent backward
   * pass of a Hessian-vector product is the ordinary backward pass of the score's tangent plus those
   * terms (src/plan/builder.ts, addTangentBackward). Ops without one refuse Hessian-vector
   * products through them.
   * src/ops/tangent.ts has the rules' shapes: the forward pass itself on the tangents (linear ops), the
   * backward pass on them (a diagonal Jacobian), a gather at the forward pass's choices (MaxPool).
   */
  tangent?(ctx: TangentContext<G>): void;
  /**
   * The second-order term of an op whose derivative varies with its inputs (Sigmoid, a product of two
   * activations): added to the input gradients of the tangent backward pass, it makes that pass the
   * exact tangent of the first. An op with a tangent rule and no second-order term must be linear or
   * piecewise linear in what varies (the tangent rule refuses otherwise).
   */
  secondOrder?(ctx: SecondOrderContext<G>): void;
  /** Output 0 is input 0's data under another shape: it shares the buffer and no kernel runs. */
  view?: boolean;
  /** Output 0 is input 0's data unchanged for this geometry (a Pad of zeros): as a view, forward and tangent. */
  viewWhen?(geometry: G): boolean;
  /** Inputs that carry data rather than shapes or axes; the others never receive gradients. */
  dataInputs?: number[];
  /**
   * Ops whose derivative jumps (ReLU at 0, Clip at its bounds, a max-pool window between its two
   * largest inputs): emit programs that write, per image, the smallest distance of the forward input
   * from such a point over the units that receive gradient, relative to the input's max |x| (into
   * `target`, [batch], taking the minimum with what is there when `target.accumulate`). Returns
   * false where this node has no such point. Used by src/explain/stability.ts.
   */
  decisionMargin?(ctx: BackwardContext<G>, target: GradientTarget): boolean;
  /** Activations of input 0 that a producer can apply as it writes (ReLU, Clip, HardSwish), else undefined. */
  asFusedActivation?(node: Node, geometry: G): FusedActivation | undefined;
  /** Whether this node's forward pass can apply such an activation as it writes output 0 (`outputActivation`). */
  fusesActivation?(geometry: G, device: DeviceTraits): boolean;
}
