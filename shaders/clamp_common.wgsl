// An activation fused into the write of the op that produces its input (ReLU, Clip): the value stored is
// min(max(v, low), high), Clip's own formula (ReLU is low 0). Without one, low and high are -+3.4e38
// and every finite value passes unchanged.
fn clamped(v: f32) -> f32 {
  return min(max(v, P.low), P.high);
}
