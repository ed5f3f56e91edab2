// alpha_k for image n. The including program declares `weight_source`: the gradient with respect to
// the layer, [batch, channels, in_h, in_w], or, for CAM, the classifier weight.
const MODE_COUNTERFACTUAL: u32 = 1u;

fn channel_weight(n: u32, k: u32, class_index: u32) -> f32 {
  if (P.mode > MODE_COUNTERFACTUAL) {
    return weight_source[class_index * P.weight_class_stride + k * P.weight_channel_stride];
  }
  let plane = P.in_h * P.in_w;
  let base = (n * P.channels + k) * plane;
  var sum = 0.0;
  for (var p = 0u; p < plane; p++) { sum += weight_source[base + p]; }
  let mean = sum / f32(plane);
  return select(mean, -mean, P.mode == MODE_COUNTERFACTUAL);
}
