// AveragePool forward: one invocation per output; see window_divisor for what it divides by. The sum
// runs in blocks of BLOCK taps added to the total: a global pool over a 96x80 plane then rounds like
// 64 + 120 additions rather than 7,680 (a sequential sum of same-sign terms errs in proportion to its
// length; measured: efficientnet_b0's logits 3.4e-5 from float64 with a sequential sum).
const BLOCK: u32 = 64u;

fn element(index: u32) {
  let ow = index % P.out_w;
  let oh = (index / P.out_w) % P.out_h;
  let plane = index / (P.out_w * P.out_h);
  let origin = window_origin(oh, ow);
  let base = plane * P.in_h * P.in_w;
  var sum = 0.0;
  var block = 0.0;
  var in_block = 0u;
  for (var kh = 0u; kh < P.k_h; kh++) {
    let ih = origin.x + i32(kh * P.dil_h);
    if (ih < 0 || ih >= i32(P.in_h)) { continue; }
    for (var kw = 0u; kw < P.k_w; kw++) {
      let iw = origin.y + i32(kw * P.dil_w);
      if (iw < 0 || iw >= i32(P.in_w)) { continue; }
      block += x[base + u32(ih) * P.in_w + u32(iw)];
      in_block++;
      if (in_block == BLOCK) {
        sum += block;
        block = 0.0;
        in_block = 0u;
      }
    }
  }
  y[index] = (sum + block) / window_divisor(origin);
}
