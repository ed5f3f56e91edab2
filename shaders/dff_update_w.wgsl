// DFF, one invocation per (image, channel c, component k): the multiplicative update of W,
// W <- W * (X H^T) / (W (H H^T) + eps); written to a second buffer, since the row's other entries are
// still read.

fn element(index: u32) {
  let n = index / (P.channels * P.components);
  let c = (index / P.components) % P.channels;
  let k = index % P.components;
  var numerator = 0.0;
  for (var p = 0u; p < P.plane; p++) { numerator += x_at(n, c, p) * h_at(n, k, p); }
  var denominator = 0.0;
  for (var j = 0u; j < P.components; j++) { denominator += w_at(n, c, j) * gram_at(n, j, k); }
  updated[index] = w_at(n, c, k) * numerator / (denominator + EPSILON);
}
