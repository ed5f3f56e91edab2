// MaxPool forward: one invocation per output. Keeps the FIRST maximum in window scan order (strict >),
// PyTorch's tie rule, and saves its position in the input plane for the backward pass.

const NONE: u32 = 0xffffffffu;

fn element(index: u32) {
  let ow = index % P.out_w;
  let oh = (index / P.out_w) % P.out_h;
  let plane = index / (P.out_w * P.out_h);
  let origin = window_origin(oh, ow);
  let base = plane * P.in_h * P.in_w;
  var best = 0.0;
  var best_at = NONE;
  for (var kh = 0u; kh < P.k_h; kh++) {
    let ih = origin.x + i32(kh * P.dil_h);
    if (ih < 0 || ih >= i32(P.in_h)) { continue; }
    for (var kw = 0u; kw < P.k_w; kw++) {
      let iw = origin.y + i32(kw * P.dil_w);
      if (iw < 0 || iw >= i32(P.in_w)) { continue; }
      let at = u32(ih) * P.in_w + u32(iw);
      let v = x[base + at];
      if (best_at == NONE || v > best) {
        best = v;
        best_at = at;
      }
    }
  }
  y[index] = best;
  argmax[index] = best_at;
}
