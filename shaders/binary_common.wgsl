// Helpers of the broadcasting binary ops (binary.wgsl, binary_backward.wgsl). Dims are the output's,
// after merging neighbours that broadcast alike; an input's stride is 0 on the dims it is broadcast along.

// a^b for any base when b is a whole number (LayerNorm's x^2 sees negative bases), else for a >= 0
// like numpy. Whole powers multiply by squaring: x^2 is then exactly x * x.
fn power(a: f32, b: f32) -> f32 {
  if (b != round(b) || abs(b) >= 16777216.0) { return pow(a, b); }
  var result = 1.0;
  var base = a;
  for (var n = u32(abs(b)); n != 0u; n >>= 1u) {
    if ((n & 1u) != 0u) { result *= base; }
    base *= base;
  }
  return select(result, 1.0 / result, b < 0.0);
}
