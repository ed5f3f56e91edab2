// Pad forward: one invocation per output element.
fn element(index: u32) {
  let c = unravel(index, P.rank, P.out_shape);
  var read_at = 0u;
  var inside = true;
  for (var d = 0u; d < P.rank; d++) {
    let n = i32(in_shape_at(d));
    var at = i32(c[d]) - pads_begin_at(d);
    if (at < 0 || at >= n) {
      if (P.mode == MODE_REFLECT) {
        at = select(2 * (n - 1) - at, -at, at < 0);
      } else if (P.mode == MODE_EDGE) {
        at = clamp(at, 0, n - 1);
      } else {
        inside = false;
        break;
      }
    }
    read_at = read_at * u32(n) + u32(at);
  }
  var v = P.value;
  if (inside) { v = x[read_at]; }
  y[index] = v;
}
