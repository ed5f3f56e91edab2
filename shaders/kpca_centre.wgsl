// KPCA-CAM, one invocation per entry (image n, i, j): Kc = K - r_i - r_j + mean(r), r the row means
// (K is symmetric: its column means are its row means).

fn element(index: u32) {
  let n = index / (P.dim * P.dim);
  let i = (index / P.dim) % P.dim;
  let j = index % P.dim;
  var total = 0.0;
  for (var q = 0u; q < P.dim; q++) { total += rows[n * P.dim + q]; }
  centred_kernel[index] = kernel_value(gram[index]) - rows[n * P.dim + i] - rows[n * P.dim + j] + total / f32(P.dim);
}
