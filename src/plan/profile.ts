// A profile of one run: every dispatch's GPU time (a profiling executable's timestamps) with what it
// computes, its arithmetic rate where it is a GEMM, and its share of the total.
import type { Binding } from '../kernels/program.js';
import type { Dispatch, Phase } from './builder.js';
import type { RooflineEstimate } from './roofline.js';

export interface DispatchProfile {
  phase: Phase;
  /** The ONNX node (or the method's own step) the dispatch belongs to. */
  label: string;
  op?: string;
  node?: string;
  kernel: string;
  /** The node's output shape. */
  shape?: number[];
  ms: number;
  /** GFLOP/s, for GEMM-like kernels. */
  gflops?: number;
  /** Floating-point operations, where the kernel declares them (GEMM-like kernels). */
  flops?: number;
  /** Bytes of its storage bindings, each counted once (reads and writes). */
  bytes: number;
  /** Workgroups launched (x·y·z). */
  workgroups: number;
  /** With --profile-device: the time that GPU's roofline allows and whether the dispatch fills it. */
  roofline?: RooflineEstimate;
  /** Of the run's total GPU time. */
  share: number;
}

/** A binding's bytes: its range, or the whole tensor (every element type is 4 bytes). */
function bindingBytes(b: Binding): number {
  return b.byteLength ?? 4 * b.tensor.shape.reduce((a, d) => a * d, 1);
}

/** The dispatches with their times, slowest first. */
export function profileOf(dispatches: readonly Dispatch[], ms: number[]): DispatchProfile[] {
  const total = ms.reduce((a, b) => a + b, 0);
  return dispatches
    .map((d, i) => {
      // Each binding read or written once: a lower bound on the traffic (accumulating outputs are also read).
      const bytes = d.program.bindings.reduce((a, b) => a + bindingBytes(b), 0);
      const [x, y, z] = d.program.workgroups;
      const flops = d.program.flops;
      return {
        phase: d.phase,
        label: d.label,
        op: d.node?.opType,
        node: d.node?.name,
        kernel: d.program.kernel.name,
        shape: d.node?.shape,
        ms: ms[i],
        gflops: flops !== undefined && ms[i] > 0 ? flops / (ms[i] * 1e6) : undefined,
        share: total > 0 ? ms[i] / total : 0,
        flops,
        bytes,
        workgroups: x * y * z,
      };
    })
    .sort((a, b) => b.ms - a.ms);
}
