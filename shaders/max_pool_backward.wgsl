// MaxPool backward as a gather (no atomics): one invocation per input element sums dy over the
// outputs whose saved argmax is this element.

fn element(index: u32) {
  let iw = index % P.in_w;
  let ih = (index / P.in_w) % P.in_h;
  let plane = index / (P.in_w * P.in_h);
  let at = ih * P.in_w + iw;
  let rows = covering_outputs(ih, P.pad_t, P.k_h, P.stride_h, P.dil_h, P.out_h);
  let cols = covering_outputs(iw, P.pad_l, P.k_w, P.stride_w, P.dil_w, P.out_w);
  var sum = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let o = (plane * P.out_h + u32(oh)) * P.out_w + u32(ow);
      if (argmax[o] == at) { sum += dy[o]; }
    }
  }
  store_dx(index, sum);
}
