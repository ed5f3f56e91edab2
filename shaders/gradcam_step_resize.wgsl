// Unfused Grad-CAM, step 3 of 4: the resize to the input, one invocation per output position.

fn element(index: u32) {
  let pixels = output_size();
  raw[index] = resized((index / pixels) * grid_size(), index % pixels);
}
