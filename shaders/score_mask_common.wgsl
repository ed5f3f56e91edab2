// Score-CAM's masks: channel k of image n's activations (read through layer_index(), whatever the
// layer's layout) upsampled to the input with aligned corners (pytorch-grad-cam uses
// UpsamplingBilinear2d), then min-max normalised.

fn aligned_source(o: u32, out_size: u32, in_size: u32) -> f32 {
  if (out_size <= 1u) { return 0.0; }
  return f32(o) * f32(in_size - 1u) / f32(out_size - 1u);
}

fn upsampled(n: u32, k: u32, y: u32, x: u32) -> f32 {
  let sy = aligned_source(y, P.out_h, P.in_h);
  let sx = aligned_source(x, P.out_w, P.in_w);
  let y0 = min(u32(sy), P.in_h - 1u);
  let x0 = min(u32(sx), P.in_w - 1u);
  let y1 = min(y0 + 1u, P.in_h - 1u);
  let x1 = min(x0 + 1u, P.in_w - 1u);
  let wy = sy - f32(y0);
  let wx = sx - f32(x0);
  let v00 = activations[layer_index(n, k, y0 * P.in_w + x0)];
  let v01 = activations[layer_index(n, k, y0 * P.in_w + x1)];
  let v10 = activations[layer_index(n, k, y1 * P.in_w + x0)];
  let v11 = activations[layer_index(n, k, y1 * P.in_w + x1)];
  let top = v00 + (v01 - v00) * wx;
  let bottom = v10 + (v11 - v10) * wx;
  return top + (bottom - top) * wy;
}
