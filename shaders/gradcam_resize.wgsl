// The resize of a coarse map to the input, shared by the fused map kernel and its unfused step: from
// the grid [in_d, in_h, in_w] (a 2-D layer has in_d = 1, a 1-D one in_d = in_h = 1) to
// [out_d, out_h, out_w]: trilinear with half-pixel centres and clamped edges (torch interpolate with
// align_corners=False; OpenCV INTER_LINEAR in 2-D). Where an axis has size 1 on both sides its weight is
// exactly 0 and its two taps coincide, so 2-D maps are bilinear and 1-D maps linear, bit for bit.
struct Axis { i0: u32, i1: u32, w: f32 }

fn axis_taps(o: u32, in_size: u32, out_size: u32) -> Axis {
  let s = max((f32(o) + 0.5) * f32(in_size) / f32(out_size) - 0.5, 0.0);
  let i0 = min(u32(s), in_size - 1u);
  return Axis(i0, min(i0 + 1u, in_size - 1u), s - f32(i0));
}

fn lerp(a: f32, b: f32, w: f32) -> f32 {
  return a + (b - a) * w;
}

// The resized value of output position q of the coarse map that starts at `base`.
fn resized(base: u32, q: u32) -> f32 {
  let x = axis_taps(q % P.out_w, P.in_w, P.out_w);
  let y = axis_taps((q / P.out_w) % P.out_h, P.in_h, P.out_h);
  let z = axis_taps(q / (P.out_w * P.out_h), P.in_d, P.out_d);
  var plane: array<f32, 2>;
  let zs = array<u32, 2>(z.i0, z.i1);
  for (var i = 0u; i < 2u; i++) {
    let row0 = base + (zs[i] * P.in_h + y.i0) * P.in_w;
    let row1 = base + (zs[i] * P.in_h + y.i1) * P.in_w;
    let top = lerp(coarse[row0 + x.i0], coarse[row0 + x.i1], x.w);
    let bottom = lerp(coarse[row1 + x.i0], coarse[row1 + x.i1], x.w);
    plane[i] = lerp(top, bottom, y.w);
  }
  return lerp(plane[0], plane[1], z.w);
}

