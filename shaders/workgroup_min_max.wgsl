// Min and max over one workgroup of WG invocations (each brings its own partial min/max). Two calls
// in a row need a workgroupBarrier() between them: every invocation reads the result slot.
var<workgroup> partial_min: array<f32, WG>;
var<workgroup> partial_max: array<f32, WG>;

fn workgroup_min_max(lane: u32, lo: f32, hi: f32) -> vec2<f32> {
  partial_min[lane] = lo;
  partial_max[lane] = hi;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      partial_min[lane] = min(partial_min[lane], partial_min[lane + stride]);
      partial_max[lane] = max(partial_max[lane], partial_max[lane + stride]);
    }
    workgroupBarrier();
  }
  return vec2<f32>(partial_min[0], partial_max[0]);
}
