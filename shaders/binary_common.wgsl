// Shapes of a broadcasting binary op (binary.wgsl, binary_backward.wgsl). Dims are the output's, after
// merging neighbours that broadcast alike; an input's stride is 0 on the dims it is broadcast along.
struct Params {
  // Invocations: output elements (forward) or elements of the input whose gradient is computed.
  count: u32,
  rank: u32,
  // Backward: output elements that read each element of that input.
  reduce_count: u32,
  // 1: add to the destination instead of overwriting it (gradients with several contributions).
  accumulate: u32,
  out_shape: array<vec4<u32>, 2>,
  out_strides: array<vec4<u32>, 2>,
  a_strides: array<vec4<u32>, 2>,
  b_strides: array<vec4<u32>, 2>,
  // Backward: a_strides or b_strides, for the input whose gradient is computed.
  target_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> P: Params;

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

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
