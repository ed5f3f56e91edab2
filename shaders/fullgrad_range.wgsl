// FullGrad, step 1, one invocation per (image, channel): the channel's min and max term, [batch, channels, 2].

fn element(row: u32) {
  let n = row / P.channels;
  let k = row % P.channels;
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var p = 0u; p < P.plane; p++) {
    let v = term(n, k, p);
    lo = min(lo, v);
    hi = max(hi, v);
  }
  ranges[2u * row] = lo;
  ranges[2u * row + 1u] = hi;
}
