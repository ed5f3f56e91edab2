// The adapter's multiply-add ceiling: every invocation runs CHAINS independent chains of P.iterations
// fused multiply-adds on scalars (CPU adapters keep one 8-wide register per scalar of each of 8
// invocations run side by side; CHAINS chains hide the FMA latency without spilling). P.scale and
// P.shift come from uniforms so that nothing folds at compile time; the sum is written so that nothing
// is dropped.
fn element(index: u32) {
  var c: array<f32, CHAINS>;
  for (var j = 0u; j < CHAINS; j++) { c[j] = f32(index + j) * 1e-7; }
  for (var i = 0u; i < P.iterations; i++) {
    for (var j = 0u; j < CHAINS; j++) { c[j] = fma(c[j], P.scale, P.shift); }
  }
  var total = 0.0;
  for (var j = 0u; j < CHAINS; j++) { total += c[j]; }
  out[index] = total;
}
