// Ablation-CAM, one invocation per value: a tensor that the layer does not feed but the rest of the
// network reads (a skip connection around it), repeated for each copy from the copy's image.

fn element(index: u32) {
  let copy = index / P.per_image;
  let pair = copy_target(copy);
  repeated[index] = source[pair.n * P.per_image + index % P.per_image];
}
