// EigenCAM, step 1, one invocation per (image, channel): the layer's values with the channel's mean over
// positions removed (pytorch-grad-cam centres each channel before its SVD, or the first component is
// mostly the mean), written channel-major, [batch, channels, plane], whatever the layer's layout.
// product (EIGEN_VALUES in src/kernels/gradcam.ts): the values are A, dy/dA * A (EigenGrad-CAM) or
// |dy/dA| * A (Seg-Eigen-CAM).

fn layer_value(n: u32, k: u32, p: u32) -> f32 {
  let i = layer_index(n, k, p);
  let a = activations[i];
  if (P.product == PRODUCT_GRADIENT) { return gradient[i] * a; }
  if (P.product == PRODUCT_ABSOLUTE_GRADIENT) { return abs(gradient[i]) * a; }
  return a;
}

fn element(row: u32) {
  let n = row / P.channels;
  let k = row % P.channels;
  var sum = 0.0;
  for (var p = 0u; p < P.plane; p++) { sum += layer_value(n, k, p); }
  let mean = sum / f32(P.plane);
  for (var p = 0u; p < P.plane; p++) { centred[row * P.plane + p] = layer_value(n, k, p) - mean; }
}
