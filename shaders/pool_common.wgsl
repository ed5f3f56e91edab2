// Shapes of a 2-D pooling window, shared by MaxPool and AveragePool (and the global pools, which run as
// one window over a 1 x H*W plane). Every batch x channel plane is pooled independently.

// Top-left corner of output (oh, ow)'s window in input coordinates (negative inside the padding).
fn window_origin(oh: u32, ow: u32) -> vec2<i32> {
  return vec2<i32>(i32(oh * P.stride_h) - P.pad_t, i32(ow * P.stride_w) - P.pad_l);
}

// The outputs whose windows may cover input position i along one axis: [first, last], empty when
// first > last. Dilated windows may still skip i; callers check the tap.
fn covering_outputs(i: u32, pad: i32, k: u32, stride: u32, dil: u32, out_size: u32) -> vec2<i32> {
  let t = i32(i) + pad;
  let reach = i32((k - 1u) * dil);
  let first = max(0, (t - reach + i32(stride) - 1) / i32(stride));
  let last = min(i32(out_size) - 1, t / i32(stride));
  return vec2<i32>(first, last);
}

fn taps_within(origin: i32, k: u32, dil: u32, lo: i32, hi: i32) -> u32 {
  var n = 0u;
  for (var j = 0u; j < k; j++) {
    let at = origin + i32(j * dil);
    if (at >= lo && at < hi) { n++; }
  }
  return n;
}

// AveragePool's divisor: the window's taps on the real input, or with count_include_pad its taps on the
// padded input. The latter is PyTorch's rule: a ceil_mode window reaching past the end padding is
// clipped there, so it does not count the positions beyond it.
fn window_divisor(origin: vec2<i32>) -> f32 {
  var rows: u32;
  var cols: u32;
  if (P.count_include_pad != 0u) {
    rows = taps_within(origin.x, P.k_h, P.dil_h, -P.pad_t, i32(P.in_h) + P.pad_b);
    cols = taps_within(origin.y, P.k_w, P.dil_w, -P.pad_l, i32(P.in_w) + P.pad_r);
  } else {
    rows = taps_within(origin.x, P.k_h, P.dil_h, 0, i32(P.in_h));
    cols = taps_within(origin.y, P.k_w, P.dil_w, 0, i32(P.in_w));
  }
  return f32(rows * cols);
}
