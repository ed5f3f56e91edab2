// An activation fused into the write of the op that produces its input (src/plan/fusion.ts): the
// producer's kernels declare these uniforms and store activated(v) (shaders/fused_activation.wgsl).
export const FUSED_UNIFORMS = { act: 'u32', low: 'f32', high: 'f32' } as const;

/** min(max(v, low), high) (ReLU, Clip), v * sigmoid(v) (SiLU: Sigmoid and Mul), HardSwish. */
export type FusedActivation = { kind: 'clamp'; low: number; high: number } | { kind: 'silu' } | { kind: 'hardswish' };

const ACT = { clamp: 0, silu: 1, hardswish: 2, none: 3 } as const;

/** The largest finite float32: unbounded sides of a clamp (WGSL does not promise infinities). */
const F32_MAX = 3.4028234663852886e38;

/** The uniforms of a fused activation (a clamp's infinite bound is none), or of none. */
export function fusedUniforms(a: FusedActivation | undefined): { act: number; low: number; high: number } {
  const [low, high] = a?.kind === 'clamp' ? [a.low, a.high] : [-Infinity, Infinity];
  return { act: ACT[a?.kind ?? 'none'], low: Math.max(low, -F32_MAX), high: Math.min(high, F32_MAX) };
}
