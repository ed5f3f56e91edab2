// DFF, one invocation per (image, channel c, component k): Lee and Seung's multiplicative update of W
// for the Frobenius norm, W <- W * (X H^T) / (W (H H^T) + eps), eps = float32's epsilon as in
// scikit-learn's solver; written to a second buffer, since the row's other entries are still read.

const EPSILON = 1.1920929e-07;

fn gram_at(n: u32, j: u32, k: u32) -> f32 { return gram[(n * P.components + j) * P.components + k]; }

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
