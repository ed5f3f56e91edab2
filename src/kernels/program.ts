// What an op emits: one dispatch of a declared kernel (src/kernels/declare.ts) with its packed uniforms,
// its tensors in binding order and its grid. Shapes travel as uniforms, so one pipeline (keyed by the
// kernel and its defines) serves every shape.
import type { Shape } from '../graph/ir.js';
import type { Defines } from '../gpu/shaders.js';
import type { Kernel } from './declare.js';

/** A logical tensor in a plan; several may share one GPU buffer (views, or reuse by liveness). */
/** What a tensor's elements are: float32 (every activation, weight and gradient) or 32-bit integers (indices, flags). */
export type ElementType = 'f32' | 'u32' | 'i32';

export interface TensorRef {
  readonly id: number;
  readonly shape: Shape;
  readonly label: string;
  /** Absent: f32. A kernel binding declared with another element type refuses the tensor. */
  readonly dtype?: ElementType;
}

export interface Binding {
  tensor: TensorRef;
  write: boolean;
  /** A byte range of the tensor, for tensors larger than one binding allows. */
  byteOffset?: number;
  byteLength?: number;
}

export interface Program {
  kernel: Kernel;
  defines: Defines;
  /** The uniform block (binding 0), packed by field name from the kernel's declaration. */
  uniforms: ArrayBuffer;
  /** Storage buffers at bindings 1, 2, ... in the declaration's order. */
  bindings: Binding[];
  workgroups: [number, number, number];
  /** Floating-point operations of the dispatch, where it is arithmetic-bound (GEMMs), for profiles. */
  flops?: number;
}

/** Invocations per workgroup of the one-invocation-per-element kernels (`grid: 'elements'`). */
export const WORKGROUP_SIZE = 256;
const MAX_GROUPS_X = 65535;

/** A 2-D grid of WORKGROUP_SIZE-wide workgroups covering `count` invocations. */
export function gridFor(count: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / WORKGROUP_SIZE));
  if (groups <= MAX_GROUPS_X) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_GROUPS_X);
  return [Math.ceil(groups / y), y, 1];
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/** What the kernels choose their variants by. */
export interface DeviceTraits {
  /** CPU adapters (lavapipe) prefer kernels without workgroup barriers. */
  isCpu: boolean;
  maxBindingBytes: number;
  minOffsetAlignment: number;
  /** The adapter's maxComputeWorkgroupsPerDimension: grids larger than it are folded (src/kernels/gemm.ts). */
  maxWorkgroupsPerDimension: number;
  /** The adapter's maxComputeWorkgroupStorageSize: kernels that would exceed it take their other variant. */
  maxWorkgroupStorageBytes: number;
  /**
   * Stride-1 3x3 convolutions as Winograd F(2x2, 3x3), their filters transformed on the CPU when a plan
   * is made. Off where weights change on the GPU after that (the sanity checks redraw them in place).
   */
  winograd: boolean;
}
