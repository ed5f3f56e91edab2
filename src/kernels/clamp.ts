// An activation fused into the write of the op that produces its input (ReLU, Clip, see
// src/plan/builder.ts): the producer's kernels declare these uniforms and store clamped(v)
// (shaders/clamp_common.wgsl).
export const CLAMP_UNIFORMS = { low: 'f32', high: 'f32' } as const;

/** The largest finite float32: unbounded sides of a clamp (WGSL does not promise infinities). */
const F32_MAX = 3.4028234663852886e38;

/** The uniforms of a fused [low, high] (an infinite bound is none), or of no clamp. */
export function clampUniforms(clamp: readonly [number, number] | undefined): { low: number; high: number } {
  const [low, high] = clamp ?? [-Infinity, Infinity];
  return { low: Math.max(low, -F32_MAX), high: Math.min(high, F32_MAX) };
}
