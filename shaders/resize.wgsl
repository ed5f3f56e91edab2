// Resize along one axis of an [outer, in_len, inner] view into [outer, out_len, inner]: output position o
// is bias[o] plus the sum over its TAPS taps t of weight[o * TAPS + t] times the input at position
// index[o * TAPS + t] (nearest: one tap; linear: two; cubic: four; the tables come from src/ops/resize.ts,
// indices stored as exact float32 integers; bias is tf_crop_and_resize's extrapolation value where the
// position falls outside the input, else 0).
fn element(i: u32) {
  let j = i % P.inner;
  let o = (i / P.inner) % P.out_len;
  let outer = i / (P.inner * P.out_len);
  var sum = bias[o];
  for (var t = 0u; t < P.taps; t++) {
    let tap = o * P.taps + t;
    sum += weight[tap] * x[(outer * P.in_len + u32(index[tap])) * P.inner + j];
  }
  y[i] = sum;
}
