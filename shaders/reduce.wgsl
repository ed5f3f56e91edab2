// A reduction (src/ops/reduce.ts), one invocation per output element over its reduced elements: each
// value v becomes {{TERM}}, the terms combine through combine() from IDENTITY, and {{FINISH}} turns
// the combined s into y, with n the count and m the largest value (LogSumExp alone needs m: SHIFT).
// The terms combine in blocks of BLOCK added to the total (see average_pool.wgsl: a long sequential
// sum of same-sign terms loses accuracy).
const BLOCK: u32 = 64u;
const IDENTITY: f32 = {{IDENTITY}};
const SHIFT: bool = {{SHIFT}};

fn combine(a: f32, b: f32) -> f32 {
  return {{COMBINE}};
}

fn element(index: u32) {
  let base = input_offset(index, false);
  var m = -3.4028234e38;
  if (SHIFT) {
    for (var r = 0u; r < P.reduce_count; r++) { m = max(m, x[base + input_offset(r, true)]); }
  }
  var total = IDENTITY;
  var block = IDENTITY;
  for (var r = 0u; r < P.reduce_count; r++) {
    let v = x[base + input_offset(r, true)];
    block = combine(block, {{TERM}});
    if (r % BLOCK == BLOCK - 1u) {
      total = combine(total, block);
      block = IDENTITY;
    }
  }
  let s = combine(total, block);
  let n = f32(P.reduce_count);
  y[index] = {{FINISH}};
}
