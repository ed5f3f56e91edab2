// LRN backward as a gather: x_k appears in its own numerator and in the denominators d_c of the
// channels c in k - hi .. k + lo, so
//   dx_k = dy_k d_k^-beta - 2 beta (alpha / size) x_k sum_c dy_c x_c d_c^(-beta - 1).
// The d_c are recomputed (size^2 reads) rather than saved by the forward pass.

fn element(index: u32) {
  let start = column_start(index);
  let k = channel_of(index);
  let first = u32(max(0, i32(k) - i32(P.hi)));
  let last = min(P.channels - 1u, k + P.lo);
  var neighbours = 0.0;
  for (var c = first; c <= last; c++) {
    let at = start + c * P.inner;
    neighbours += dy[at] * x[at] * pow(denominator(start, c), -P.beta - 1.0);
  }
  let g = dy[index] * pow(denominator(start, k), -P.beta) - 2.0 * P.beta * P.alpha_over_size * x[index] * neighbours;
  store_dx(index, g);
}
