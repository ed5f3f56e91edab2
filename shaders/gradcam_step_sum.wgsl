// Unfused Grad-CAM, step 2 of 4: ReLU of the sum of the channels' terms, one invocation per position.

fn element(index: u32) {
  let plane = grid_size();
  let n = index / plane;
  var sum = 0.0;
  for (var k = 0u; k < P.channels; k++) { sum += position_term(alpha[n * P.channels + k], n, k, index % plane); }
  coarse[index] = max(sum, 0.0);
}
