// EigenCAM, step 3, one invocation per entry: squared = (source / trace(source))^2. Repeated, the
// symmetric positive semi-definite Gram matrix becomes its top eigenvalue's projector u u^T (eigenvalue
// ratios lambda_2 / lambda_1 raised to 2^steps); dividing by the trace first keeps every entry within
// [0, 1] in magnitude, so nothing overflows, and what underflows is what the powers drive to zero. A
// zero matrix (a constant layer) stays zero.

fn element(index: u32) {
  let n = index / (P.dim * P.dim);
  let i = (index / P.dim) % P.dim;
  let j = index % P.dim;
  var trace = 0.0;
  for (var k = 0u; k < P.dim; k++) { trace += source[gram_index(n, k, k)]; }
  if (!(trace > 0.0)) {
    squared[index] = 0.0;
    return;
  }
  let scale = 1.0 / trace;
  var sum = 0.0;
  for (var k = 0u; k < P.dim; k++) {
    sum += (source[gram_index(n, i, k)] * scale) * (source[gram_index(n, k, j)] * scale);
  }
  squared[index] = sum;
}
