// Score-CAM and Ablation-CAM, one invocation per copy: the class score of its image's class, into the
// (image, channel) slot that the copy stands for, [images, channels].

fn element(copy: u32) {
  let pair = copy_target(copy);
  if (!pair.valid) { return; }
  let class_index = u32(picked[2u * pair.n]);
  channel_scores[pair.n * P.channels + pair.k] = scores[copy * P.classes + class_index];
}
