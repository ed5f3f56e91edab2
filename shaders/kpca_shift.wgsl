// KPCA-CAM, one invocation per entry: Kc + s I with s = max(0, -(the smallest Gershgorin bound)), so that
// every eigenvalue is >= 0 and the largest one is also the largest in magnitude (what squaring finds).

fn element(index: u32) {
  let n = index / (P.dim * P.dim);
  let i = (index / P.dim) % P.dim;
  let j = index % P.dim;
  var value = centred_kernel[index];
  if (i == j) {
    var lowest = 0.0;
    for (var q = 0u; q < P.dim; q++) { lowest = min(lowest, bounds[n * P.dim + q]); }
    value -= lowest;
  }
  shifted[index] = value;
}
