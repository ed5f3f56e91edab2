// Ablation-CAM, one invocation per value of the ablated batch (the layer's own layout, image_stride
// values per copy): copy j is its image's activations with channel k set to zero (the paper's ablation).
// The channel of a value is (index / channel_stride) % channels in every layout; a class token's
// features are channels too, and are zeroed with the rest (as pytorch-grad-cam's ViT ablation does).

fn element(index: u32) {
  let copy = index / P.image_stride;
  let pair = copy_target(copy);
  let within = index % P.image_stride;
  let k = (within / P.channel_stride) % P.channels;
  let v = activations[pair.n * P.image_stride + within];
  ablated[index] = select(v, 0.0, k == pair.k);
}
