// FullGrad, step 3, one invocation per output position: a layer's summed terms resized to the input
// (gradcam_resize.wgsl, as every map) and added to the map.

fn element(index: u32) {
  let pixels = output_size();
  raw[index] += resized((index / pixels) * grid_size(), index % pixels);
}
