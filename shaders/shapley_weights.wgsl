// ShapleyCAM (Cai et al. 2025; pytorch-grad-cam's shapley_cam.py), one invocation per value of the layer:
// the second-order Taylor term of the target in A, dy/dA - (1/2) (d^2 y / dA^2) A, whose spatial mean is
// the channel's weight (the map kernel's Grad-CAM mode reads it in place of the gradient).

fn element(index: u32) {
  weights[index] = gradient[index] - 0.5 * hvp[index];
}
