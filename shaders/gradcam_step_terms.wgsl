// --smooth-eigen, one invocation per (image, channel): the channel's terms at every position (the values
// whose channel sum is the map: alpha_k A_k, or the elementwise methods' f(dy/dA_k, A_k); gradcam_alpha.wgsl)
// with their mean over positions removed, written channel-major, [batch, channels, plane], for the
// principal-component projection that replaces the sum (eigen_*.wgsl).

fn element(row: u32) {
  let n = row / P.channels;
  let k = row % P.channels;
  let plane = grid_size();
  let weight = alpha[row];
  var sum = 0.0;
  for (var p = 0u; p < plane; p++) { sum += position_term(weight, n, k, p); }
  let mean = sum / f32(plane);
  for (var p = 0u; p < plane; p++) { centred[row * plane + p] = position_term(weight, n, k, p) - mean; }
}
