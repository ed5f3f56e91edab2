// KPCA-CAM (pytorch-grad-cam's kpca_cam.py, scikit-learn's KernelPCA with one component): EigenCAM's
// principal component taken in the feature space of the sigmoid kernel k(x, y) = tanh(gamma <x, y> + coef0)
// over the layer's positions (gamma = 1 / channels and coef0 = 1 by default, as scikit-learn's). From the
// centred activations' Gram matrix G over positions (eigen_gram.wgsl, dim = plane):
// K = k(G), centred in feature space, Kc = K - mean of K's row - mean of its column + mean of K
// (kpca_rows, kpca_centre); Kc need not be positive semi-definite, and repeated squaring finds the
// eigenvalue largest in magnitude, so the squarings start from Kc + s I, with s from Gershgorin's bound
// on the smallest eigenvalue (kpca_bound, kpca_shift): the top eigenvalue then leads in magnitude too.
// The projection (eigen_project.wgsl) reads Kc itself: Kc u / sqrt(u^T Kc u) = sqrt(lambda_1) u_1, what
// KernelPCA's fit_transform returns, with its sign convention (the largest |entry| positive).

fn kernel_value(g: f32) -> f32 {
  return tanh(clamp(P.gamma * g + P.coef0, -10.0, 10.0));
}
