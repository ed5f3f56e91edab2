// ReduceMean forward: one invocation per output element sums its reduced elements, in blocks of BLOCK
// added to the total (see average_pool.wgsl: a long sequential sum of same-sign terms loses accuracy).
const BLOCK: u32 = 64u;

fn element(index: u32) {
  let base = input_offset(index, false);
  var sum = 0.0;
  var block = 0.0;
  for (var r = 0u; r < P.reduce_count; r++) {
    block += x[base + input_offset(r, true)];
    if (r % BLOCK == BLOCK - 1u) {
      sum += block;
      block = 0.0;
    }
  }
  y[index] = (sum + block) / f32(P.reduce_count);
}
