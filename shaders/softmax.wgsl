// Softmax / LogSoftmax forward, from the row maximum, the sum of exponentials and its logarithm.

fn element(row: u32) {
  let start = row_start(row);
  // Shift by the row maximum so that exp never overflows.
  var top = x[start];
  for (var j = 1u; j < P.n; j++) { top = max(top, x[start + j * P.inner]); }
  var sum = 0.0;
  for (var j = 0u; j < P.n; j++) { sum += exp(x[start + j * P.inner] - top); }
  let log_sum = log(sum);
  for (var j = 0u; j < P.n; j++) {
    let at = start + j * P.inner;
    let shifted = x[at] - top;
    if (P.log_softmax != 0u) { y[at] = shifted - log_sum; } else { y[at] = exp(shifted) / sum; }
  }
}
