// AveragePool backward as a gather (no atomics): one invocation per input element sums dy / divisor
// over the outputs whose window has a tap on it.

fn element(index: u32) {
  let iw = index % P.in_w;
  let ih = (index / P.in_w) % P.in_h;
  let plane = index / (P.in_w * P.in_h);
  let rows = covering_outputs(ih, P.pad_t, P.k_h, P.stride_h, P.dil_h, P.out_h);
  let cols = covering_outputs(iw, P.pad_l, P.k_w, P.stride_w, P.dil_w, P.out_w);
  var sum = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let origin = window_origin(u32(oh), u32(ow));
      if ((i32(ih) - origin.x) % i32(P.dil_h) != 0 || (i32(iw) - origin.y) % i32(P.dil_w) != 0) { continue; }
      sum += dy[(plane * P.out_h + u32(oh)) * P.out_w + u32(ow)] / window_divisor(origin);
    }
  }
  store_dx(index, sum);
}
