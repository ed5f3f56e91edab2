// Unfused Grad-CAM, step 1 of 4: channel weights, one invocation per (image, channel).

fn element(index: u32) {
  let n = index / P.channels;
  alpha[index] = channel_weight(n, index % P.channels, u32(picked[2u * n]), picked[2u * n + 1u]);
}
