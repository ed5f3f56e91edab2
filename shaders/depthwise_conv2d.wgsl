// Depthwise convolution (one input channel per group, out_c/groups outputs per channel) computed
// directly: a GEMM with one row per group would leave most of a tile idle. Each invocation produces
// RUN (8 or 16) neighbouring outputs of a row. On llvmpipe every load costs about three multiply-adds,
// so each filter row loads the SPAN inputs under the run once and feeds every output it reaches from
// registers. The run, the filter width and the stride and dilation along the row are defines (one
// pipeline each): every loop over them has a constant count, unrolls, and leaves indices constant.
// The span is loaded first and each output then reads its taps at constant offsets: walking the span
// and testing which output each input meets (a modulo per tap) stayed slow for strided rows (5x5/2 at
// 28x28 on lavapipe: 5.1 ms that way, 0.9 ms this way).
const RUN: u32 = {{RUN}}u;
const KW: u32 = {{KW}}u;
const SW: u32 = {{SW}}u;
const DW: u32 = {{DW}}u;
const SPAN: u32 = (RUN - 1u) * SW + (KW - 1u) * DW + 1u;

fn element(index: u32) {
  let runs = (P.out_w + RUN - 1u) / RUN;
  let ow0 = (index % runs) * RUN;
  let oh = (index / runs) % P.out_h;
  let oc = (index / (runs * P.out_h)) % P.out_c;
  let n = index / (runs * P.out_h * P.out_c);
  let c = oc / out_c_per_group();
  var acc: array<f32, RUN>;
  for (var j = 0u; j < RUN; j++) { acc[j] = bias[oc]; }
  let iw0 = i32(ow0 * SW) - P.pad_l;
  let last = i32(P.in_w) - 1;
  for (var kh = 0u; kh < P.k_h; kh++) {
    let ih = i32(oh * P.stride_h + kh * P.dil_h) - P.pad_t;
    if (ih < 0 || ih >= i32(P.in_h)) { continue; }
    let row = ((n * P.in_c + c) * P.in_h + u32(ih)) * P.in_w;
    var w: array<f32, KW>;
    for (var kw = 0u; kw < KW; kw++) { w[kw] = weight[(oc * P.k_h + kh) * KW + kw]; }
    var xs: array<f32, SPAN>;
    for (var t = 0u; t < SPAN; t++) {
      let iw = iw0 + i32(t);
      xs[t] = select(0.0, x[row + u32(clamp(iw, 0, last))], iw >= 0 && iw <= last);
    }
    // Output j meets input t = j * SW + kw * DW of the span through tap kw.
    for (var j = 0u; j < RUN; j++) {
      for (var kw = 0u; kw < KW; kw++) { acc[j] = fma(w[kw], xs[j * SW + kw * DW], acc[j]); }
    }
  }
  let out_row = ((n * P.out_c + oc) * P.out_h + oh) * P.out_w;
  for (var j = 0u; j < RUN; j++) {
    if (ow0 + j < P.out_w) { y[out_row + ow0 + j] = activated(acc[j]); }
  }
}
