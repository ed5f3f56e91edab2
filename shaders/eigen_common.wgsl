// EigenCAM and EigenGrad-CAM: the first principal component of a layer's values X (the activations A,
// or dy/dA * A), per image, projected back onto the positions. X is kept channel-major as the layer is,
// [batch, channels, plane]; the principal direction is found on the smaller of its two Gram matrices,
// dim = min(plane, channels):
// - over_channels = 1 (plane <= channels): G = X X^T over positions, [plane, plane], whose top
//   eigenvector u gives the projection directly as G u / sqrt(u^T G u) (= sigma_1 u_1);
// - over_channels = 0: G = X^T X over channels, [channels, channels], whose top eigenvector v_1 gives
//   the projection X v_1.

// Row i, column j of image n's Gram matrix in a [batch, dim, dim] buffer.
fn gram_index(n: u32, i: u32, j: u32) -> u32 {
  return (n * P.dim + i) * P.dim + j;
}
