// SmoothGrad's copies: copy t = first[0] + j of a run (j < batch) is noisy sample t % samples of image
// t / samples; copies past the last (the last run's tail) compute something harmless and are never read.

fn copy_image(copy: u32) -> u32 {
  return min((u32(first[0]) + copy) / P.samples, P.images - 1u);
}

fn copy_valid(copy: u32) -> bool {
  return u32(first[0]) + copy < P.images * P.samples;
}
