// FullGrad, step 1, one invocation per (image, channel): the channel's min term and its range (max - min),
// [batch, channels, 2]. The range is stored, not the max: step 2 adds the epsilon to a loaded value, which
// no compiler can reassociate into (1e-7 + max) - min, where float32 loses the 1e-7 beside max and a
// constant channel (a 1x1 layer: squeeze-excitation's convs) divides 0 by 0.

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
  ranges[2u * row + 1u] = hi - lo;
}
