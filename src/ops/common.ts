// Helpers shared by the dense and layout ops: node-named errors, axis and stride arithmetic, one-element
// constants read through stride-0 views, and the strided copy that every layout op moves data with.
import { UserError } from '../errors.js';
import { type Constant, contiguousStrides, elementCount, type Graph, type Node, type Shape } from '../graph/ir.js';
import { MAX_RANK, stridedCopyKernel } from '../kernels/layout.js';
import type { TensorRef } from '../kernels/program.js';
import type { BackwardContext, KernelContext } from './types.js';

export function nodeError(node: Node, message: string): UserError {
  return new UserError(`${node.opType} node "${node.name}": ${message}`);
}

/** An ONNX axis (negative counts from the end) as an index in [0, rank). */
export function normalizeAxis(node: Node, axis: number, rank: number): number {
  if (axis < -rank || axis >= rank) throw nodeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
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
  const merged = mergeDims(shape, [src.strides, dst.strides]);
  requireRank(ctx.node, merged.shape);
  const [srcStrides, dstStrides] = merged.strides;
  ctx.dispatch(
    stridedCopyKernel.program({
      uniforms: { rank: merged.shape.length, src_offset: src.offset, dst_offset: dst.offset, shape: merged.shape, src_strides: srcStrides, dst_strides: dstStrides },
      bindings: { src: src.ref, dst: dst.ref },
      accumulate,
      count,
    }),
  );
}

/**
 * The same walk over fewer dims: size-1 dims dropped, and a dim merged into the one before it where
 * every stride list steps over it contiguously (or is 0 on both: broadcast alike). Concat's slabs
 * become [batch, channels x H x W] and a same-shape binary op one dim: fewer integer divisions per
 * element, which CPU adapters run lane by lane.
 */
export function mergeDims(shape: Shape, strides: number[][]): { shape: Shape; strides: number[][] } {
  const out = { shape: [] as number[], strides: strides.map(() => [] as number[]) };
  shape.forEach((size, d) => {
    if (size === 1) return;
    const last = out.shape.length - 1;
    if (last >= 0 && strides.every((s, i) => out.strides[i][last] === s[d] * size)) {
      out.shape[last] *= size;
      strides.forEach((s, i) => (out.strides[i][last] = s[d]));
    } else {
      out.shape.push(size);
      strides.forEach((s, i) => out.strides[i].push(s[d]));
    }
  });
  return out.shape.length > 0 ? out : { shape: [1], strides: strides.map(() => [0]) };
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

// ---------------------------------------------------------------------------------------------------
// numpy broadcasting: the one rule the elementwise ops, MatMul's batch dims and load-time folding use.

/** numpy's broadcast of the shapes (aligned at their last dims); undefined when they do not broadcast. */
export function broadcastShapes(...shapes: Shape[]): Shape | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let d = 0; d < rank; d++) {
    const dims = shapes.map((s) => s[s.length - rank + d] ?? 1);
    const size = Math.max(...dims);
    if (dims.some((n) => n !== 1 && n !== size)) return undefined;
    out.push(size);
  }
  return out;
}

/** The strides with which a contiguous tensor of `shape` is read along each dim of `outShape`: 0 where it is broadcast. */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const padded = [...new Array<number>(outShape.length - shape.length).fill(1), ...shape];
  const strides = contiguousStrides(padded);
  return padded.map((dim, d) => (dim === 1 ? 0 : strides[d]));
}

/** Names for tensors a load-time rewrite adds: `base`, or `base_1`, `base_2`... where that is taken. */
export function freshNames(graph: Graph): (base: string) => string {
  const names = new Set([...graph.constants.keys(), ...graph.nodes.flatMap((n) => [...n.inputs, ...n.outputs])]);
  return (base) => {
    let name = base;
    for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
    names.add(name);
    return name;
  };
}
