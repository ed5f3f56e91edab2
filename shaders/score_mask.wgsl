// Score-CAM, one invocation per value of the masked batch [batch, in_channels, out_h, out_w]: the image
// times its copy's normalised mask, (v - min) / (max - min + 1e-8) as pytorch-grad-cam normalises.

const MASK_EPS: f32 = 1e-8;

fn element(index: u32) {
  let pixels = P.out_h * P.out_w;
  let copy = index / (P.in_channels * pixels);
  let pair = copy_target(copy);
  let q = index % pixels;
  let c = (index / pixels) % P.in_channels;
  let m = (upsampled(pair.n, pair.k, q / P.out_w, q % P.out_w) - mask_range[2u * copy]) / (mask_range[2u * copy + 1u] + MASK_EPS);
  masked[index] = image[(pair.n * P.in_channels + c) * pixels + q] * m;
}
