// --smooth-aug (pytorch-grad-cam's aug_smooth: ttach's HorizontalFlip x Multiply [0.9, 1, 1.1]), one
// invocation per value of the batch of copies [batch, per_image]: sample s of an image (its six copies in
// ttach's order: unflipped x 0.9, 1, 1.1, then flipped x 0.9, 1, 1.1) is the image, mirrored along its
// last axis (width) from sample samples / 2 on, times the sample's brightness factor.

const FACTORS = array<f32, 3>(0.9, 1.0, 1.1);

fn element(index: u32) {
  let j = index / P.per_image;
  let i = index % P.per_image;
  let n = copy_image(j);
  let s = (u32(first[0]) + j) % P.samples;
  var source = i;
  if (s >= P.samples / 2u) {
    let x = i % P.width;
    source = i - x + (P.width - 1u - x);
  }
  augmented[index] = image[n * P.per_image + source] * FACTORS[s % 3u];
}
