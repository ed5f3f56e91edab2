// Depthwise convolution (one input channel per group, out_c/groups outputs per channel) computed
// directly: a GEMM with one row per group would leave most of a tile idle. Each invocation produces
// RUN (4) neighbouring outputs along the row.

fn element(index: u32) {
  let quads = (P.out_w + RUN - 1u) / RUN;
  let ow0 = (index % quads) * RUN;
  let oh = (index / quads) % P.out_h;
  let oc = (index / (quads * P.out_h)) % P.out_c;
  let n = index / (quads * P.out_h * P.out_c);
  let c = oc / out_c_per_group();
  var acc = vec4<f32>(bias[oc]);
  for (var kh = 0u; kh < P.k_h; kh++) {
    let ih = i32(oh * P.stride_h + kh * P.dil_h) - P.pad_t;
    if (ih < 0 || ih >= i32(P.in_h)) { continue; }
    let row = ((n * P.in_c + c) * P.in_h + u32(ih)) * P.in_w;
    for (var kw = 0u; kw < P.k_w; kw++) {
      let w = weight[(oc * P.k_h + kh) * P.k_w + kw];
      for (var j = 0u; j < RUN; j++) {
        let iw = i32((ow0 + j) * P.stride_w + kw * P.dil_w) - P.pad_l;
        if (iw >= 0 && iw < i32(P.in_w)) { acc[j] += w * x[row + u32(iw)]; }
      }
    }
  }
  let out_row = ((n * P.out_c + oc) * P.out_h + oh) * P.out_w;
  for (var j = 0u; j < RUN; j++) {
    if (ow0 + j < P.out_w) { y[out_row + ow0 + j] = clamped(acc[j]); }
  }
}
