// What each method makes of channel k of image n. The including program declares `activations` (the
// layer's A, read through layer_index(): layer_layout.wgsl) and `weight_source`: the gradient with
// respect to the layer, same layout, or, for CAM, the classifier weight. Every method sums one term per
// channel at each position, then the map is ReLU(sum) (pytorch-grad-cam's convention for all of them):
// - channel-weight methods: term = alpha_k * A_k, alpha_k from channel_weight();
// - elementwise methods (HIRESCAM to LAYERCAM): term = f(dy/dA_k, A_k) at the position, from position_term().
// Score-CAM and Ablation-CAM bring one value per (image, channel) in weight_source, [batch, channels],
// from their perturbed forward passes. The MODE_* constants come from the kernel's declaration
// (src/kernels/gradcam.ts: MAP_MODE), the one place that numbers the methods.

// FEM's threshold: a channel's positions above mean + FEM_K standard deviations (pytorch-grad-cam's k).
const FEM_K: f32 = 2.0;

// The epsilons are pytorch-grad-cam's, so that its maps and ours agree.
const XGRADCAM_EPS: f32 = 1e-7;
const GRADCAM_PP_EPS: f32 = 1e-6;

fn elementwise_mode() -> bool {
  return P.mode >= MODE_HIRESCAM && P.mode <= MODE_LAYERCAM;
}

// class_score: the image's score y of its class (before softmax).
fn channel_weight(n: u32, k: u32, class_index: u32, class_score: f32) -> f32 {
  if (P.mode == MODE_CAM) {
    return weight_source[class_index * P.weight_class_stride + k * P.weight_channel_stride];
  }
  if (P.mode == MODE_ABLATIONCAM) {
    return (class_score - weight_source[n * P.channels + k]) / class_score;
  }
  if (P.mode == MODE_SCORECAM) {
    // Each invocation takes the row's max and sum itself: channels^2 reads, a few million at most.
    let row = n * P.channels;
    var top = weight_source[row];
    for (var j = 1u; j < P.channels; j++) { top = max(top, weight_source[row + j]); }
    var total = 0.0;
    for (var j = 0u; j < P.channels; j++) { total += exp(weight_source[row + j] - top); }
    return exp(weight_source[row + k] - top) / total;
  }
  if (elementwise_mode()) { return 1.0; }
  if (P.mode == MODE_FEM) { return fem_weight(n, k); }
  let plane = grid_size();
  var sum_a = 0.0;
  if (P.mode == MODE_XGRADCAM || P.mode == MODE_GRADCAM_PP) {
    for (var p = 0u; p < plane; p++) { sum_a += activations[layer_index(n, k, p)]; }
  }
  var sum = 0.0;
  for (var p = 0u; p < plane; p++) {
    let i = layer_index(n, k, p);
    let g = weight_source[i];
    switch P.mode {
      case MODE_XGRADCAM: { sum += g * activations[i]; }
      case MODE_GRADCAM_PP: {
        let g2 = g * g;
        let a = select(0.0, g2 / (2.0 * g2 + sum_a * (g2 * g) + GRADCAM_PP_EPS), g != 0.0);
        sum += max(g, 0.0) * a;
      }
      default: { sum += g; }
    }
  }
  switch P.mode {
    case MODE_XGRADCAM: { return sum / (sum_a + XGRADCAM_EPS); }
    case MODE_GRADCAM_PP: { return sum; }
    case MODE_COUNTERFACTUAL: { return -sum / f32(plane); }
    default: { return sum / f32(plane); }
  }
}

// FEM: the share of channel k's positions where A exceeds its mean by FEM_K population standard
// deviations (the variance from the centred values, not E[A^2] - E[A]^2, which cancels in float32).
fn fem_weight(n: u32, k: u32) -> f32 {
  let plane = grid_size();
  var sum = 0.0;
  for (var p = 0u; p < plane; p++) { sum += activations[layer_index(n, k, p)]; }
  let mean = sum / f32(plane);
  var squares = 0.0;
  for (var p = 0u; p < plane; p++) {
    let d = activations[layer_index(n, k, p)] - mean;
    squares += d * d;
  }
  let threshold = mean + FEM_K * sqrt(squares / f32(plane));
  var above = 0u;
  for (var p = 0u; p < plane; p++) { above += select(0u, 1u, activations[layer_index(n, k, p)] > threshold); }
  return f32(above) / f32(plane);
}

// Channel k's term at position p of image n.
fn position_term(alpha_k: f32, n: u32, k: u32, p: u32) -> f32 {
  let i = layer_index(n, k, p);
  let a = activations[i];
  if (!elementwise_mode()) { return alpha_k * a; }
  let g = weight_source[i];
  switch P.mode {
    case MODE_HIRESCAM: { return g * a; }
    case MODE_ELEMENTWISE: { return max(g * a, 0.0); }
    default: { return max(g, 0.0) * a; }
  }
}
