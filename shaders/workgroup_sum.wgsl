// The sum over one workgroup of WG invocations (each brings its own partial sum). Every invocation
// must call it (it holds barriers), and it may be called twice in a row: it waits before reusing the slots.
var<workgroup> partial_sum: array<f32, WG>;

fn workgroup_sum(lane: u32, value: f32) -> f32 {
  workgroupBarrier();
  partial_sum[lane] = value;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) { partial_sum[lane] += partial_sum[lane + stride]; }
    workgroupBarrier();
  }
  return partial_sum[0];
}
