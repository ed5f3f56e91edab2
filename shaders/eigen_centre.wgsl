// EigenCAM, step 1, one invocation per (image, channel): the layer's values with the channel's mean over
// positions removed (pytorch-grad-cam centres each channel before its SVD, or the first component is
// mostly the mean). product = 1 (EigenGrad-CAM): the values are dy/dA * A.

fn layer_value(i: u32) -> f32 {
  let a = activations[i];
  if (P.product == 1u) { return gradient[i] * a; }
  return a;
}

fn element(row: u32) {
  let base = row * P.plane;
  var sum = 0.0;
  for (var p = 0u; p < P.plane; p++) { sum += layer_value(base + p); }
  let mean = sum / f32(P.plane);
  for (var p = 0u; p < P.plane; p++) { centred[base + p] = layer_value(base + p) - mean; }
}
