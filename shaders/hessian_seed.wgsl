// Hessian-vector products, one invocation per (image n, value j) of the scores z [batch, values]: the
// backward pass's seed dy/dz and its tangent along z' (the scores' tangent), (d^2 y / dz^2) z', for the
// target y of image n's class c (picked[2n]) and p = softmax(z):
// - LOGIT: y = z_c; seed e_c; tangent 0.
// - SOFTMAX: y = p_c; seed p_c (e_c - p); tangent p_c' (e_c - p) - p_c p', with p' = p (z' - p.z').
// - REST (Cai et al. 2025; pytorch-grad-cam's ClassifierOutputReST): y = z_c - cross-entropy(z, c)
//   = 2 z_c - logsumexp(z); seed 2 e_c - p; tangent -p'.

fn score(n: u32, j: u32) -> f32 {
  return scores[n * P.values + j];
}

fn element(index: u32) {
  let n = index / P.values;
  let j = index % P.values;
  let c = u32(picked[2u * n]);
  var top = score(n, 0u);
  for (var k = 1u; k < P.values; k++) { top = max(top, score(n, k)); }
  var total = 0.0;
  var weighted = 0.0;
  for (var k = 0u; k < P.values; k++) {
    let e = exp(score(n, k) - top);
    total += e;
    weighted += e * tangent[n * P.values + k];
  }
  let p_j = exp(score(n, j) - top) / total;
  let p_c = exp(score(n, c) - top) / total;
  // p.z', and the tangents of p_j and p_c.
  let mean_tangent = weighted / total;
  let dp_j = p_j * (tangent[index] - mean_tangent);
  let dp_c = p_c * (tangent[n * P.values + c] - mean_tangent);
  let is_c = select(0.0, 1.0, j == c);
  switch P.mode {
    case TARGET_SOFTMAX: {
      seed[index] = p_c * (is_c - p_j);
      seed_tangent[index] = dp_c * (is_c - p_j) - p_c * dp_j;
    }
    case TARGET_REST: {
      seed[index] = 2.0 * is_c - p_j;
      seed_tangent[index] = -dp_j;
    }
    default: {
      seed[index] = is_c;
      seed_tangent[index] = 0.0;
    }
  }
}
