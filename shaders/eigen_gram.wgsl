// EigenCAM, step 2, one invocation per Gram entry (image n, row i, column j); see eigen_common.wgsl.

fn element(index: u32) {
  let n = index / (P.dim * P.dim);
  let i = (index / P.dim) % P.dim;
  let j = index % P.dim;
  let base = n * P.channels * P.plane;
  var sum = 0.0;
  if (P.over_channels == 1u) {
    for (var k = 0u; k < P.channels; k++) {
      sum += centred[base + k * P.plane + i] * centred[base + k * P.plane + j];
    }
  } else {
    for (var p = 0u; p < P.plane; p++) {
      sum += centred[base + i * P.plane + p] * centred[base + j * P.plane + p];
    }
  }
  gram[index] = sum;
}
