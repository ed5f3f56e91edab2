// KPCA-CAM, one invocation per (image, row i): Gershgorin's lower bound of row i, Kc_ii - sum_{j != i} |Kc_ij|;
// every eigenvalue of Kc is at least the smallest of them.

fn element(index: u32) {
  let n = index / P.dim;
  let i = index % P.dim;
  var off = 0.0;
  for (var j = 0u; j < P.dim; j++) {
    if (j != i) { off += abs(centred_kernel[gram_index(n, i, j)]); }
  }
  bounds[index] = centred_kernel[gram_index(n, i, i)] - off;
}
