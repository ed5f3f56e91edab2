// A baseline image, one invocation per value of [images, channels, height, width]: zeros, each plane's
// mean, or RISE's blur: an 11x11 Gaussian of sigma one pixel (RISE's gkern(11, 5): the normal density at
// -5 .. 5, outer product, normalized to sum 1), zero beyond the border as RISE's conv2d pads.

const BASELINE_ZEROS = 0u;
const BASELINE_MEAN = 1u;
const BASELINE_BLUR = 2u;
const BLUR_RADIUS = 5;

fn element(index: u32) {
  if (P.mode == BASELINE_ZEROS) {
    baseline[index] = 0.0;
    return;
  }
  let plane = P.height * P.width;
  if (P.mode == BASELINE_MEAN) {
    baseline[index] = channel_mean[index / plane];
    return;
  }
  var norm = 0.0;
  for (var d = -BLUR_RADIUS; d <= BLUR_RADIUS; d++) { norm += exp(-0.5 * f32(d * d)); }
  let base = index - index % plane;
  let y = i32((index % plane) / P.width);
  let x = i32(index % P.width);
  var sum = 0.0;
  for (var dy = -BLUR_RADIUS; dy <= BLUR_RADIUS; dy++) {
    let yy = y + dy;
    if (yy < 0 || yy >= i32(P.height)) { continue; }
    var row = 0.0;
    for (var dx = -BLUR_RADIUS; dx <= BLUR_RADIUS; dx++) {
      let xx = x + dx;
      if (xx < 0 || xx >= i32(P.width)) { continue; }
      row += exp(-0.5 * f32(dx * dx)) * images[base + u32(yy) * P.width + u32(xx)];
    }
    sum += exp(-0.5 * f32(dy * dy)) * row;
  }
  baseline[index] = sum / (norm * norm);
}
