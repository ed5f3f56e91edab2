// An activation fused into the write of the op that produces its input (src/plan/fusion.ts), with the
// formulas of the unfused kernels (src/ops/elementwise.ts) so that both round alike: P.act 0 is
// min(max(v, low), high), Clip's formula (ReLU is low 0), 1 is SiLU v * sigmoid(v), 2 is HardSwish,
// 3 is none: the value as it is (a clamp to the largest floats would turn infinities finite, and
// WGSL leaves max(NaN, x) to the implementation).
fn activated(v: f32) -> f32 {
  switch P.act {
    case 0u: { return min(max(v, P.low), P.high); }
    case 1u: { return v * (1.0 / (1.0 + exp(-v))); }
    case 2u: { return v * clamp(v / 6.0 + 0.5, 0.0, 1.0); }
    default: { return v; }
  }
}
