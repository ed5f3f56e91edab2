// Unfused Grad-CAM, step 3 of 4: bilinear resize, one invocation per output pixel.

fn element(index: u32) {
  let pixels = P.out_h * P.out_w;
  let q = index % pixels;
  let t = bilinear_taps(q / P.out_w, q % P.out_w);
  let base = (index / pixels) * P.in_h * P.in_w;
  raw[index] = interpolate(t, coarse[base + t.i00], coarse[base + t.i01], coarse[base + t.i10], coarse[base + t.i11]);
}
