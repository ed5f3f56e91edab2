// Depthwise convolution backward-data, computed directly like the forward: each invocation gathers
// RUN neighbouring input positions of dx along a row (RUN a multiple of the stride, so every run starts
// on the same phase of the stride). Lane j meets dy column q0 + d through tap kw where
// j + PW - kw * DW = d * SW, PW being pad_l mod SW: with the run, the filter width, the stride, the
// dilation and PW as defines, every (d, kw) pair and its lane are constants once the loops unroll, so
// each filter row loads the SPAN dy values under the run once and feeds its lanes from registers
// (llvmpipe pays about three multiply-adds per load; a gather per tap and lane cost 8x the forward).
const RUN: i32 = {{RUN}};
const KW: i32 = {{KW}};
const SW: i32 = {{SW}};
const DW: i32 = {{DW}};
const PW: i32 = {{PW}};
// The dy columns a run reaches, relative to q0: from D_MIN (the last tap's first lane) to D_MAX.
const D_MIN: i32 = {{D_MIN}};
const SPAN: i32 = {{SPAN}};

fn element(index: u32) {
  let runs = (P.in_w + u32(RUN) - 1u) / u32(RUN);
  let iw0 = (index % runs) * u32(RUN);
  let ih = (index / runs) % P.in_h;
  let c = (index / (runs * P.in_h)) % P.in_c;
  let n = index / (runs * P.in_h * P.in_c);
  // iw0 + pad_l - PW is a multiple of the stride: iw0 is one, pad_l - PW too.
  let q0 = (i32(iw0) + P.pad_l - PW) / SW + D_MIN;
  let last = i32(P.out_w) - 1;
  let multiplier = out_c_per_group();
  var acc: array<f32, RUN>;
  for (var m = 0u; m < multiplier; m++) {
    let oc = c * multiplier + m;
    for (var kh = 0u; kh < P.k_h; kh++) {
      let th = i32(ih) + P.pad_t - i32(kh * P.dil_h);
      if (th < 0 || u32(th) % P.stride_h != 0u || u32(th) / P.stride_h >= P.out_h) { continue; }
      let row = ((n * P.out_c + oc) * P.out_h + u32(th) / P.stride_h) * P.out_w;
      var w: array<f32, KW>;
      for (var kw = 0; kw < KW; kw++) { w[kw] = weight[(oc * P.k_h + kh) * u32(KW) + u32(kw)]; }
      for (var t = 0; t < SPAN; t++) {
        let q = q0 + t;
        let v = select(0.0, dy[row + u32(clamp(q, 0, last))], q >= 0 && q <= last);
        for (var kw = 0; kw < KW; kw++) {
          let j = (D_MIN + t) * SW - PW + kw * DW;
          if (j >= 0 && j < RUN) { acc[j] = fma(w[kw], v, acc[j]); }
        }
      }
    }
  }
  let in_row = ((n * P.in_c + c) * P.in_h + ih) * P.in_w;
  for (var j = 0u; j < u32(RUN); j++) {
    if (iw0 + j < P.in_w) { store_dx(in_row + iw0 + j, acc[j]); }
  }
}
