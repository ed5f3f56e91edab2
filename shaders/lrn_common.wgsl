// Local response normalization across channels (ONNX): y = x / d^beta with
// d = bias + alpha / size * (sum of x^2 over channels c - lo .. c + hi), lo = floor((size - 1) / 2),
// hi = ceil((size - 1) / 2). Elements are indexed as [batch, channels, inner].

// Offset of channel 0 at element index's batch and spatial position.
fn column_start(index: u32) -> u32 {
  return (index / (P.channels * P.inner)) * P.channels * P.inner + index % P.inner;
}

fn channel_of(index: u32) -> u32 { return (index / P.inner) % P.channels; }

fn denominator(start: u32, c: u32) -> f32 {
  let first = u32(max(0, i32(c) - i32(P.lo)));
  let last = min(P.channels - 1u, c + P.hi);
  var sum = 0.0;
  for (var j = first; j <= last; j++) {
    let v = x[start + j * P.inner];
    sum += v * v;
  }
  return P.bias + P.alpha_over_size * sum;
}
