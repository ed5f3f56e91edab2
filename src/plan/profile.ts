// A profile of one run: every dispatch's GPU time (a profiling executable's timestamps) with what it
// computes, its arithmetic rate where it is a GEMM, and its share of the total.
import type { Dispatch, Phase } from './builder.js';

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
  /** Of the run's total GPU time. */
  share: number;
}

/** The dispatches with their times, slowest first. */
export function profileOf(dispatches: readonly Dispatch[], ms: number[]): DispatchProfile[] {
  const total = ms.reduce((a, b) => a + b, 0);
  return dispatches
    .map((d, i) => ({
      phase: d.phase,
      label: d.label,
      op: d.node?.opType,
      node: d.node?.name,
      kernel: d.program.kernel.name,
      shape: d.node?.shape,
      ms: ms[i],
      gflops: d.program.flops !== undefined && ms[i] > 0 ? d.program.flops / (ms[i] * 1e6) : undefined,
      share: total > 0 ? ms[i] / total : 0,
    }))
    .sort((a, b) => b.ms - a.ms);
}
