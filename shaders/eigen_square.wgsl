// EigenCAM, step 3, one invocation per RUN neighbouring entries of a row: squared = (source /
// trace(source))^2. Repeated, the symmetric positive semi-definite Gram matrix becomes its top
// eigenvalue's projector u u^T (eigenvalue ratios lambda_2 / lambda_1 raised to 2^steps); dividing by
// the trace first keeps every entry within [0, 1] in magnitude, so nothing overflows, and what
// underflows is what the powers drive to zero. A zero matrix (a constant layer) stays zero. The run
// shares the trace and the row's loads (KPCA-CAM squares positions x positions matrices: 784 x 784
// at 28x28); each entry's sum runs in the same order as one invocation per entry would.

fn element(index: u32) {
  let runs = (P.dim + RUN - 1u) / RUN;
  let n = index / (P.dim * runs);
  let i = (index / runs) % P.dim;
  let j0 = (index % runs) * RUN;
  var trace = 0.0;
  for (var k = 0u; k < P.dim; k++) { trace += source[gram_index(n, k, k)]; }
  if (!(trace > 0.0)) {
    for (var j = 0u; j < RUN; j++) {
      if (j0 + j < P.dim) { squared[gram_index(n, i, j0 + j)] = 0.0; }
    }
    return;
  }
  let scale = 1.0 / trace;
  // Columns past the last repeat it: read, never written.
  var sums: array<f32, RUN>;
  for (var k = 0u; k < P.dim; k++) {
    let a = source[gram_index(n, i, k)] * scale;
    for (var j = 0u; j < RUN; j++) {
      sums[j] += a * (source[gram_index(n, k, min(j0 + j, P.dim - 1u))] * scale);
    }
  }
  for (var j = 0u; j < RUN; j++) {
    if (j0 + j < P.dim) { squared[gram_index(n, i, j0 + j)] = sums[j]; }
  }
}
