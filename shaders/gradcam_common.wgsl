// Shapes and helpers shared by the fused Grad-CAM kernel (gradcam.wgsl) and its unfused composition
// (gradcam_step_*.wgsl), so that both compute exactly the same thing.

// Bilinear sample positions for output pixel (y, x): half-pixel centres, edges clamped
// (OpenCV INTER_LINEAR, torch interpolate with align_corners=False).
struct Taps { i00: u32, i01: u32, i10: u32, i11: u32, wy: f32, wx: f32 }

fn bilinear_taps(y: u32, x: u32) -> Taps {
  let sy = max((f32(y) + 0.5) * f32(P.in_h) / f32(P.out_h) - 0.5, 0.0);
  let sx = max((f32(x) + 0.5) * f32(P.in_w) / f32(P.out_w) - 0.5, 0.0);
  let y0 = min(u32(sy), P.in_h - 1u);
  let x0 = min(u32(sx), P.in_w - 1u);
  let y1 = min(y0 + 1u, P.in_h - 1u);
  let x1 = min(x0 + 1u, P.in_w - 1u);
  return Taps(y0 * P.in_w + x0, y0 * P.in_w + x1, y1 * P.in_w + x0, y1 * P.in_w + x1, sy - f32(y0), sx - f32(x0));
}

fn interpolate(t: Taps, v00: f32, v01: f32, v10: f32, v11: f32) -> f32 {
  let top = v00 + (v01 - v00) * t.wx;
  let bottom = v10 + (v11 - v10) * t.wx;
  return top + (bottom - top) * t.wy;
}

// Min-max normalization that does not depend on the map's magnitude: no epsilon with units, so a map
// of 1e-8 spans [0, 1] as one of 1e8 does. A constant map (or a range that underflows) gives zeros; the
// clamp keeps an inexact division (WGSL allows 2.5 ulp) inside [0, 1].
fn normalize_unit(v: f32, lo: f32, hi: f32) -> f32 {
  let range = hi - lo;
  if (!(range > 0.0)) { return 0.0; }
  return clamp((v - lo) / range, 0.0, 1.0);
}
