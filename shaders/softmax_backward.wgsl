// From the forward output y: Softmax dx = y * (dy - sum(dy * y)); LogSoftmax dx = dy - exp(y) * sum(dy).

fn element(row: u32) {
  let start = row_start(row);
  let is_log = P.log_softmax != 0u;
  var total = 0.0;
  for (var j = 0u; j < P.n; j++) {
    let at = start + j * P.inner;
    if (is_log) { total += dy[at]; } else { total += dy[at] * y[at]; }
  }
  for (var j = 0u; j < P.n; j++) {
    let at = start + j * P.inner;
    var g: f32;
    if (is_log) { g = dy[at] - exp(y[at]) * total; } else { g = y[at] * (dy[at] - total); }
    store_dx(at, g);
  }
}
