// Helpers shared by the dense and layout ops: node-named errors, axis and stride arithmetic, one-element
// constants read through stride-0 views, and the strided copy that every layout op moves data with.
import { type Constant, elementCount, type Node, type Shape, UserError } from '../graph/ir.js';
import { gridFor, Params, type TensorRef } from '../plan/program.js';
import type { BackwardContext, KernelContext } from './types.js';

/** Ranks the layout kernels take: their shapes and strides are uniform arrays of two vec4s. */
export const MAX_RANK = 8;

export function nodeError(node: Node, message: string): UserError {
  return new UserError(`${node.opType} node "${node.name}": ${message}`);
}

/** An ONNX axis (negative counts from the end) as an index in [0, rank). */
export function normalizeAxis(node: Node, axis: number, rank: number): number {
  if (axis < -rank || axis >= rank) throw nodeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

export function requireRank(node: Node, shape: Shape): void {
  if (shape.length > MAX_RANK) throw nodeError(node, `rank ${shape.length} is more than the ${MAX_RANK} supported`);
}

/** The integers of a load-time constant input (axes, starts, pads); `what` names it in the error. */
export function constantInts(node: Node, c: Constant | undefined, what: string): number[] {
  if (!c) throw nodeError(node, `${what} must be known at load time (a constant or a folded shape computation)`);
  return Array.from(c.data as ArrayLike<number>, Number);
}

/** Read through a stride-0 view: a zero source fills, a one turns a GEMM into a sum. */
export const ZERO: Constant = { dtype: 'float32', shape: [1], data: new Float32Array([0]) };
export const ONE: Constant = { dtype: 'float32', shape: [1], data: new Float32Array([1]) };

export interface StridedView {
  ref: TensorRef;
  offset: number;
  /** One per dimension of the copied shape; source strides may be negative (reversed slices). */
  strides: number[];
}

export function contiguousView(ref: TensorRef, shape: Shape = ref.shape): StridedView {
  return { ref, offset: 0, strides: contiguousStrides(shape) };
}

/** dst[coordinate c] = (or +=) src[coordinate c] for every coordinate of `shape`, each side through its strides. */
export function stridedCopy(ctx: KernelContext, shape: Shape, src: StridedView, dst: StridedView, accumulate: boolean): void {
  const count = elementCount(shape);
  if (count === 0) return;
  requireRank(ctx.node, shape);
  ctx.dispatch({
    files: ['strided_copy'],
    params: new Params()
      .u32(count, shape.length, accumulate ? 1 : 0, src.offset, dst.offset)
      .align16()
      .u32Array(shape, MAX_RANK)
      .i32(...padded(src.strides))
      .u32Array(dst.strides, MAX_RANK),
    bindings: [{ tensor: src.ref }, { tensor: dst.ref, write: true }],
    workgroups: gridFor(count),
  });
}

/** A signed list padded to MAX_RANK words, for an array<vec4<i32>, 2> uniform. */
export function padded(values: number[]): number[] {
  return [...values, ...new Array<number>(MAX_RANK - values.length).fill(0)];
}

/** Backward of ops whose output is their input's data under another shape: dX (+)= dY. */
export function copyGradient(ctx: BackwardContext): void {
  const dy = ctx.gradOutput(0);
  const dx = ctx.gradInput(0);
  if (!dy || !dx) return;
  const flat = [elementCount(dy.shape)];
  stridedCopy(ctx, flat, contiguousView(dy, flat), contiguousView(dx.ref, flat), dx.accumulate);
}

/** A source that reads zero everywhere, for gradients nothing flows into. */
export function zeros(ctx: KernelContext, rank: number): StridedView {
  return { ref: ctx.constant(ZERO, 'zero'), offset: 0, strides: new Array<number>(rank).fill(0) };
}
