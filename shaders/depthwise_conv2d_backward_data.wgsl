// Depthwise convolution backward-data, computed directly like the forward: each invocation gathers
// RUN (4) neighbouring input positions of dx from every output position whose window covers them.

fn element(index: u32) {
  let quads = (P.in_w + RUN - 1u) / RUN;
  let iw0 = (index % quads) * RUN;
  let ih = (index / quads) % P.in_h;
  let c = (index / (quads * P.in_h)) % P.in_c;
  let n = index / (quads * P.in_h * P.in_c);
  let multiplier = out_c_per_group();
  var acc = vec4<f32>(0.0);
  for (var m = 0u; m < multiplier; m++) {
    let oc = c * multiplier + m;
    for (var kh = 0u; kh < P.k_h; kh++) {
      let th = i32(ih) + P.pad_t - i32(kh * P.dil_h);
      if (th < 0 || u32(th) % P.stride_h != 0u || u32(th) / P.stride_h >= P.out_h) { continue; }
      let row = ((n * P.out_c + oc) * P.out_h + u32(th) / P.stride_h) * P.out_w;
      for (var kw = 0u; kw < P.k_w; kw++) {
        let w = weight[(oc * P.k_h + kh) * P.k_w + kw];
        for (var j = 0u; j < RUN; j++) {
          let tw = i32(iw0 + j) + P.pad_l - i32(kw * P.dil_w);
          if (tw >= 0 && u32(tw) % P.stride_w == 0u && u32(tw) / P.stride_w < P.out_w) { acc[j] += w * dy[row + u32(tw) / P.stride_w]; }
        }
      }
    }
  }
  let in_row = ((n * P.in_c + c) * P.in_h + ih) * P.in_w;
  for (var j = 0u; j < RUN; j++) {
    if (iw0 + j < P.in_w) {
      store_dx(in_row + iw0 + j, acc[j]);
    }
  }
}
