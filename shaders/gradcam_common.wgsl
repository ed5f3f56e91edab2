// Shapes and helpers shared by the fused Grad-CAM kernel (gradcam.wgsl) and its unfused composition
// (gradcam_step_*.wgsl), so that both compute exactly the same thing.

// The map's grid is [in_d, in_h, in_w] (a 2-D layer has in_d = 1, a 1-D one in_d = in_h = 1), resized
// to the input's [out_d, out_h, out_w] (gradcam_resize.wgsl).
fn grid_size() -> u32 {
  return P.in_d * P.in_h * P.in_w;
}

fn output_size() -> u32 {
  return P.out_d * P.out_h * P.out_w;
}

// Min-max normalization that does not depend on the map's magnitude: no epsilon with units, so a map
// of 1e-8 spans [0, 1] as one of 1e8 does. A constant map (or a range that underflows) gives zeros; the
// clamp keeps an inexact division (WGSL allows 2.5 ulp) inside [0, 1].
fn normalize_unit(v: f32, lo: f32, hi: f32) -> f32 {
  let range = hi - lo;
  if (!(range > 0.0)) { return 0.0; }
  return clamp((v - lo) / range, 0.0, 1.0);
}
