// Gemm and MatMul, forward and backward, as strided GEMMs on the shared GEMM body (shaders/matmul.wgsl):
// transposes, batch broadcasting, bias broadcasting and gradient layouts are strides in uniforms. A
// weight larger than one storage binding (VGG's 392 MiB fc6) runs as several dispatches, each binding
// a byte range of it. Backward: gradients of A and B where they are activations, and of C (bias) when
// it is one; the weights of the explained model are constants and get none.
import { linearTangent } from './tangent.js';
import { attrFloat, attrInt, elementCount, type Node, type Shape } from '../graph/ir.js';
import { matmulKernels } from '../kernels/gemm.js';
import { type FusedActivation, fusedUniforms } from '../kernels/fused.js';
import type { TensorRef } from '../kernels/program.js';
import { broadcastShapes, broadcastStrides, nodeError, ONE, ZERO } from './common.js';
import type { BackwardContext, TangentContext, GradientTarget, KernelContext, OpDef } from './types.js';

/** A matrix inside a tensor: element (batch, row, col) is at offset + batch*batch + row*row + col*col. */
export interface MatrixView {
  ref: TensorRef;
  offset: number;
  row: number;
  col: number;
  batch: number;
  /** Bind only these bytes of the tensor (a chunk of a weight too large for one binding). */
  range?: { byteOffset: number; byteLength: number };
}

/** out (+)= alpha * left (m x k) . right (k x n) + beta * bias, for each of `batch` matrices. */
export interface GemmCall {
  m: number;
  n: number;
  k: number;
  batch: number;
  left: MatrixView;
  right: MatrixView;
  out: MatrixView;
  bias?: MatrixView;
  alpha: number;
  beta: number;
  accumulate: boolean;
  /** An activation applied as out is written; not with partial sums added into out. */
  activation?: FusedActivation;
}

/** The largest grid dimension WebGPU guarantees; batches run along z. */
const MAX_BATCH = 65535;

export const view = (ref: TensorRef, row: number, col: number, batch = 0): MatrixView => ({ ref, offset: 0, row, col, batch });
const transposed = (v: MatrixView): MatrixView => ({ ...v, row: v.col, col: v.row });
const shifted = (v: MatrixView, elements: number): MatrixView => ({ ...v, offset: v.offset + elements });
const byteLengthOf = (ref: TensorRef) => elementCount(ref.shape) * 4;

// ---------------------------------------------------------------- Gemm

interface GemmGeometry {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** C as [rows, cols] with rows in {1, m} and cols in {1, n}; undefined without C. */
  c?: [number, number];
}

function gemmGeometry(node: Node, a: Shape, b: Shape, c: Shape | undefined): GemmGeometry {
  if (a.length !== 2 || b.length !== 2) throw nodeError(node, `A [${a}] and B [${b}] must be 2-D`);
  const transA = attrInt(node, 'transA', 0) !== 0;
  const transB = attrInt(node, 'transB', 0) !== 0;
  const [m, k] = transA ? [a[1], a[0]] : a;
  const [kB, n] = transB ? [b[1], b[0]] : b;
  if (kB !== k) throw nodeError(node, `A [${a}]${transA ? ' (transposed)' : ''} and B [${b}]${transB ? ' (transposed)' : ''} do not multiply`);
  if (!c) return { m, n, k, transA, transB };
  if (c.length > 2) throw nodeError(node, `C [${c}] must have rank 0, 1 or 2`);
  const c2: [number, number] = c.length === 2 ? [c[0], c[1]] : [1, c.length === 1 ? c[0] : 1];
  if ((c2[0] !== 1 && c2[0] !== m) || (c2[1] !== 1 && c2[1] !== n)) throw nodeError(node, `C [${c}] does not broadcast to [${m}, ${n}]`);
  return { m, n, k, transA, transB, c: c2 };
}

function gemmCall(ctx: KernelContext<GemmGeometry>): GemmCall {
  const [a, b, c] = ctx.inputs;
  const g = ctx.geometry;
  const { m, n, k } = g;
  const call: GemmCall = {
    m, n, k, batch: 1,
    left: g.transA ? view(a!.ref, 1, m) : view(a!.ref, k, 1),
    right: g.transB ? view(b!.ref, 1, k) : view(b!.ref, n, 1),
    out: view(ctx.outputs[0].ref, n, 1),
    bias: c && g.c ? view(c.ref, g.c[0] === 1 ? 0 : g.c[1], g.c[1] === 1 ? 0 : 1) : undefined,
    alpha: attrFloat(ctx.node, 'alpha', 1),
    beta: attrFloat(ctx.node, 'beta', 1),
    accumulate: false,
  };
  return call;
}

export const gemm: OpDef<GemmGeometry> = {
  versions: { Gemm: [1, 6, 7, 9, 11, 13] },
  dataInputs: [0, 1, 2],
  geometry: ({ node, inputShapes }) => gemmGeometry(node, inputShapes[0]!, inputShapes[1]!, inputShapes[2]),
  inferShapes: (_, g) => [[g.m, g.n]],

  forward(ctx) {
    dispatchGemm(ctx, gemmCall(ctx));
  },

  // Linear in the input that varies with the layer (the other a weight), C a constant term.
  tangent: (ctx) => linearTangent(ctx, gemm.forward, { linear: varyingFactor(ctx), additive: [2] }),

  backward(ctx: BackwardContext<GemmGeometry>) {
    const dy = ctx.gradOutput(0);
    if (!dy) return;
    const call = gemmCall(ctx);
    inputGradients(ctx, call, dy);
    const dc = ctx.gradInput(2);
    if (dc && ctx.geometry.c) biasGradient(ctx, call, ctx.geometry.c, dy, dc);
  },
};

/** dC = beta * dY summed over the axes C was broadcast along: a GEMM against a stride-0 one. */
function biasGradient(ctx: BackwardContext, call: GemmCall, [cRows, cCols]: [number, number], dy: TensorRef, dc: GradientTarget): void {
  const { m, n } = call;
  const one = view(ctx.constant(ONE, 'one'), 0, 0);
  const flat = view(dy, 1, 0);
  const rows = view(dy, n, 1);
  const base = { batch: 1, out: view(dc.ref, 1, 1), alpha: call.beta, beta: 0, accumulate: dc.accumulate };
  const sumRows = cRows === 1 && m > 1;
  const sumCols = cCols === 1 && n > 1;
  if (sumRows && sumCols) dispatchGemm(ctx, { ...base, m: 1, n: 1, k: m * n, left: one, right: flat });
  else if (sumRows) dispatchGemm(ctx, { ...base, m: 1, n, k: m, left: one, right: rows });
  else if (sumCols) dispatchGemm(ctx, { ...base, m, n: 1, k: n, left: rows, right: one });
  else dispatchGemm(ctx, { ...base, m: m * n, n: 1, k: 1, left: flat, right: one });
}

// ---------------------------------------------------------------- MatMul

interface MatMulGeometry {
  m: number;
  n: number;
  k: number;
  /** Output batch count; each operand's batch is either all of it or broadcast (1). */
  batch: number;
  aBroadcast: boolean;
  bBroadcast: boolean;
  outShape: Shape;
}

/** numpy matmul: 1-D operands gain (and lose) a unit dim, leading dims broadcast. */
function matmulGeometry(node: Node, a: Shape, b: Shape): MatMulGeometry {
  if (a.length === 0 || b.length === 0) throw nodeError(node, 'operands must have rank 1 or more');
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const [m, k] = a2.slice(-2);
  const [kB, n] = b2.slice(-2);
  if (kB !== k) throw nodeError(node, `[${a}] and [${b}] do not multiply`);
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const outBatch = broadcastShapes(aBatch, bBatch);
  if (!outBatch) throw nodeError(node, `batch dims of [${a}] and [${b}] do not broadcast`);
  const batch = elementCount(outBatch);
  const aBroadcast = elementCount(aBatch) === 1;
  const bBroadcast = elementCount(bBatch) === 1;
  // An operand's batch is read as a whole (no stride-0 dim among others): all of the output's, or one.
  const whole = (s: Shape) => broadcastStrides(s, outBatch).every((stride, i) => stride !== 0 || outBatch[i] === 1);
  if ((!aBroadcast && !whole(aBatch)) || (!bBroadcast && !whole(bBatch))) {
    throw nodeError(node, `batch broadcasting of [${a}] with [${b}] is supported only where one side's batch is 1 or both are equal`);
  }
  const outShape = [...outBatch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
  return { m, n, k, batch, aBroadcast, bBroadcast, outShape };
}

function matmulCall(ctx: KernelContext<MatMulGeometry>): GemmCall {
  const [a, b] = [ctx.inputs[0]!, ctx.inputs[1]!];
  const { m, n, k, batch, aBroadcast, bBroadcast } = ctx.geometry;
  const y = ctx.outputs[0].ref;
  const common = { n, k, alpha: 1, beta: 0, accumulate: false };
  // B shared by every batch (a Linear on [N,H,W,C]): A's batches are just more rows of one GEMM.
  if (bBroadcast) return { ...common, m: m * batch, batch: 1, left: view(a.ref, k, 1), right: view(b.ref, n, 1), out: view(y, n, 1) };
  return {
    ...common, m, batch,
    left: view(a.ref, k, 1, aBroadcast ? 0 : m * k),
    right: view(b.ref, n, 1, k * n),
    out: view(y, n, 1, m * n),
  };
}

export const matmul: OpDef<MatMulGeometry> = {
  versions: { MatMul: [1, 9, 13] },
  dataInputs: [0, 1],
  geometry: ({ node, inputShapes }) => matmulGeometry(node, inputShapes[0]!, inputShapes[1]!),
  inferShapes: (_, g) => [g.outShape],

  forward(ctx) {
    dispatchGemm(ctx, matmulCall(ctx));
  },

  tangent: (ctx) => linearTangent(ctx, matmul.forward, { linear: varyingFactor(ctx) }),

  backward(ctx: BackwardContext<MatMulGeometry>) {
    const dy = ctx.gradOutput(0);
    if (dy) inputGradients(ctx, matmulCall(ctx), dy);
  },
};

// ---------------------------------------------------------------- shared

/** The one factor of a product that varies with the layer; a product of two is not linear. */
function varyingFactor(ctx: TangentContext): number[] {
  const varying = [0, 1].filter((i) => ctx.tangentInput(i));
  if (varying.length > 1) throw nodeError(ctx.node, 'a product of two inputs that vary with the layer has a second derivative; Hessian-vector products through it are not implemented yet');
  return varying;
}

/** For out = alpha * A . B: dA = alpha * dY . B^T and dB = alpha * A^T . dY, written in A's and B's layouts. */
function inputGradients(ctx: BackwardContext, call: GemmCall, dy: TensorRef): void {
  const dyView = { ...call.out, ref: dy };
  const { m, n, k, batch, alpha } = call;
  const da = ctx.gradInput(0);
  if (da) {
    const out = { ...call.left, ref: da.ref };
    dispatchGemm(ctx, { m, n: k, k: n, batch, left: dyView, right: transposed(call.right), out, alpha, beta: 0, accumulate: da.accumulate });
  }
  const db = ctx.gradInput(1);
  if (db) {
    const out = { ...call.right, ref: db.ref };
    dispatchGemm(ctx, { m: k, n, k: m, batch, left: transposed(call.left), right: dyView, out, alpha, beta: 0, accumulate: db.accumulate });
  }
}

export function dispatchGemm(ctx: KernelContext, call: GemmCall): void {
  if (call.batch > 1 && call.out.batch === 0) {
    // Every batch writes the same output (the gradient of a broadcast operand): add them one at a time.
    for (let b = 0; b < call.batch; b++) {
      const left = shifted(call.left, b * call.left.batch);
      const right = shifted(call.right, b * call.right.batch);
      dispatchGemm(ctx, { ...call, batch: 1, left, right, accumulate: call.accumulate || b > 0 });
    }
    return;
  }
  if (call.batch > MAX_BATCH) throw nodeError(ctx.node, `${call.batch} batched products are more than one dispatch runs (${MAX_BATCH})`);
  for (const piece of bindableChunks(ctx, call)) emit(ctx, piece);
}

/**
 * Splits a GEMM whose left or right operand is larger than one storage binding into GEMMs that each
 * bind a contiguous range of it: whole slices along its outer (largest-stride) dimension. Slicing M or
 * N gives blocks of output rows or columns; slicing K gives partial sums that add into the output.
 */
function bindableChunks(ctx: KernelContext, call: GemmCall): GemmCall[] {
  const { maxBindingBytes } = ctx.device;
  const side = (['left', 'right'] as const).find((s) => byteLengthOf(call[s].ref) > maxBindingBytes);
  if (!side) return [call];
  const operand = call[side];
  if (operand.offset !== 0 || (call.batch > 1 && operand.batch !== 0)) {
    throw nodeError(ctx.node, `tensor "${operand.ref.label}" is too large for one binding and is not a single matrix that can be split`);
  }
  const alongRows = operand.row >= operand.col;
  const slice = Math.max(operand.row, operand.col);
  const dim = side === 'left' ? (alongRows ? 'm' : 'k') : alongRows ? 'k' : 'n';
  const perChunk = slicesPerBinding(ctx, operand.ref, slice * 4);
  const total = byteLengthOf(operand.ref);
  const pieces: GemmCall[] = [];
  for (let start = 0; start < call[dim]; start += perChunk) {
    const count = Math.min(perChunk, call[dim] - start);
    const byteOffset = start * slice * 4;
    const piece: GemmCall = { ...call };
    piece[dim] = count;
    piece[side] = { ...operand, range: { byteOffset, byteLength: Math.min(count * slice * 4, total - byteOffset) } };
    if (dim === 'k') {
      if (call.activation) throw new Error(`${ctx.node.name}: a GEMM with a fused activation cannot split its reduction (see Conv's fusesActivation)`);
      if (side === 'left') piece.right = shifted(call.right, start * call.right.row);
      else piece.left = shifted(call.left, start * call.left.col);
      if (start > 0) {
        piece.accumulate = true;
        piece.beta = 0;
      }
    } else {
      const along = (v: MatrixView) => shifted(v, start * (dim === 'm' ? v.row : v.col));
      piece.out = along(call.out);
      if (call.bias) piece.bias = along(call.bias);
    }
    pieces.push(piece);
  }
  return pieces;
}

/** Slices of `sliceBytes` per chunk: as many as one binding holds, in groups that keep chunk offsets aligned. */
function slicesPerBinding(ctx: KernelContext, ref: TensorRef, sliceBytes: number): number {
  const { maxBindingBytes, minOffsetAlignment } = ctx.device;
  const group = minOffsetAlignment / gcd(sliceBytes, minOffsetAlignment);
  const fit = Math.floor(maxBindingBytes / sliceBytes);
  const slices = fit - (fit % group);
  if (slices === 0) {
    throw nodeError(
      ctx.node,
      `tensor "${ref.label}" cannot be split into bindings of at most ${maxBindingBytes} bytes (slices of ${sliceBytes} bytes, offsets aligned to ${minOffsetAlignment})`,
    );
  }
  return slices;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function emit(ctx: KernelContext, given: GemmCall): void {
  // C^T = B^T A^T costs the same arithmetic; where it fills the kernel's tiles better (a product with
  // few columns, such as a Winograd GEMM over 18 tiles), it runs that way: the views swap their strides.
  const swap = matmulKernels.occupancy(ctx.device, given.n, given.m) > matmulKernels.occupancy(ctx.device, given.m, given.n);
  const call: GemmCall = swap
    ? { ...given, m: given.n, n: given.m, left: transposed(given.right), right: transposed(given.left), out: transposed(given.out), bias: given.bias && transposed(given.bias) }
    : given;
  const bias = call.bias ?? view(ctx.constant(ZERO, 'zero'), 0, 0);
  const bound = (v: MatrixView) => ({ tensor: v.ref, byteOffset: v.range?.byteOffset, byteLength: v.range?.byteLength });
  const { kernel, workgroups } = matmulKernels.pick(ctx.device, call.m, call.n, call.batch);
  const [a, b, c, y] = [call.left, call.right, bias, call.out];
  ctx.dispatch(
    kernel.program({
      uniforms: {
        m: call.m, n: call.n, k: call.k,
        a_offset: a.offset, a_row: a.row, a_col: a.col, a_batch: a.batch,
        b_offset: b.offset, b_row: b.row, b_col: b.col, b_batch: b.batch,
        c_offset: c.offset, c_row: c.row, c_col: c.col, c_batch: c.batch,
        y_offset: y.offset, y_row: y.row, y_col: y.col, y_batch: y.batch,
        alpha: call.alpha, beta: call.bias ? call.beta : 0,
        ...fusedUniforms(call.activation),
      },
      bindings: { a: bound(a), b: bound(b), c: bound(c), y: bound(y) },
      accumulate: call.accumulate,
      workgroups,
      flops: 2 * call.m * call.n * call.k * call.batch,
    }),
  );
}
