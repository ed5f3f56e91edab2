// How long a dispatch would take on a named GPU if it ran at that GPU's roofline: the larger of its
// arithmetic at peak FP32 rate and its bytes at full memory bandwidth. No kernel reaches the roofline;
// what the estimate shows is which dispatches are bound by what, and which launch too few workgroups to
// occupy the device at all (fewer than 4 per SM or compute unit: one wave, no latency hiding).

export interface GpuSpec {
  name: string;
  /** Peak FP32 rate, FLOP/s (non-tensor-core). */
  flops: number;
  /** Memory bandwidth, bytes/s. */
  bandwidth: number;
  /** Streaming multiprocessors (NVIDIA) or GPU cores (Apple). */
  units: number;
}

/** From the vendors' published specifications. */
export const GPUS: Record<string, GpuSpec> = {
  h200: { name: 'NVIDIA H200 SXM (67 TFLOP/s FP32, 4.8 TB/s, 132 SMs)', flops: 67e12, bandwidth: 4.8e12, units: 132 },
  a100: { name: 'NVIDIA A100 SXM 80 GB (19.5 TFLOP/s FP32, 2.04 TB/s, 108 SMs)', flops: 19.5e12, bandwidth: 2.039e12, units: 108 },
  rtx4090: { name: 'NVIDIA GeForce RTX 4090 (82.6 TFLOP/s FP32, 1.01 TB/s, 128 SMs)', flops: 82.6e12, bandwidth: 1.008e12, units: 128 },
  m2: { name: 'Apple M2, 10-core GPU (3.6 TFLOP/s FP32, 100 GB/s, 10 cores)', flops: 3.6e12, bandwidth: 100e9, units: 10 },
};

/** Workgroups per SM below which a dispatch is reported as not filling the device. */
export const FILL_WORKGROUPS_PER_UNIT = 4;

export interface RooflineEstimate {
  /** The roofline time, ms. */
  ms: number;
  bound: 'compute' | 'memory';
  /** Whether the dispatch launches at least FILL_WORKGROUPS_PER_UNIT workgroups per SM. */
  fills: boolean;
}

export function gpuSpec(name: string): GpuSpec {
  const spec = GPUS[name.toLowerCase()];
  if (!spec) throw new Error(`unknown GPU "${name}"; choose from ${Object.keys(GPUS).join(', ')}`);
  return spec;
}

/** `flops` may be unknown (0) for kernels that declare none: they are then judged by their bytes alone. */
export function roofline(work: { flops?: number; bytes: number; workgroups: number }, gpu: GpuSpec): RooflineEstimate {
  const compute = (work.flops ?? 0) / gpu.flops;
  const memory = work.bytes / gpu.bandwidth;
  return { ms: 1000 * Math.max(compute, memory), bound: compute > memory ? 'compute' : 'memory', fills: work.workgroups >= FILL_WORKGROUPS_PER_UNIT * gpu.units };
}
