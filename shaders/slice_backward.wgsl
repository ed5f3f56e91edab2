// Slice backward as a gather into zeros: one invocation per input element finds whether the slice took
// it (its offset from the start is a whole number of steps, fewer than the output extent, on every
// axis) and if so reads the gradient of the output position it went to.
fn element(index: u32) {
  let c = unravel(index, P.rank, P.in_shape);
  var read_at = 0u;
  var taken = true;
  for (var d = 0u; d < P.rank; d++) {
    let offset = i32(c[d]) - starts_at(d);
    let step = steps_at(d);
    let o = offset / step;
    let extent = out_shape_at(d);
    if (o * step != offset || o < 0 || o >= i32(extent)) { taken = false; break; }
    read_at = read_at * extent + u32(o);
  }
  var g = 0.0;
  if (taken) { g = dy[read_at]; }
  store_dx(index, g);
}
