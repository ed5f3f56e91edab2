// Ablation-CAM, one invocation per value of the ablated batch [batch, channels, plane]: copy j is its
// image's activations with channel k set to zero (the paper's ablation).

fn element(index: u32) {
  let copy = index / (P.channels * P.plane);
  let pair = copy_target(copy);
  let k = (index / P.plane) % P.channels;
  let v = activations[(pair.n * P.channels + k) * P.plane + index % P.plane];
  ablated[index] = select(v, 0.0, k == pair.k);
}
