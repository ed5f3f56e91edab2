// KPCA-CAM, one invocation per (image, row i): the mean of row i of the kernel matrix K = k(G).

fn element(index: u32) {
  let n = index / P.dim;
  let i = index % P.dim;
  var sum = 0.0;
  for (var j = 0u; j < P.dim; j++) { sum += kernel_value(gram[gram_index(n, i, j)]); }
  rows[index] = sum / f32(P.dim);
}
