// Slice backward as a gather into zeros: one invocation per input element finds whether the slice took
// it (its offset from the start is a whole number of steps, fewer than the output extent, on every
// axis) and if so reads the gradient of the output position it went to.
struct Params {
  count: u32, rank: u32, accumulate: u32,
  in_shape: array<vec4<u32>, 2>,
  starts: array<vec4<i32>, 2>,
  steps: array<vec4<i32>, 2>,
  out_shape: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.count) { return; }
  var rest = index;
  var read_at = 0u;
  var stride = 1u;
  var taken = true;
  for (var i = 0u; i < P.rank; i++) {
    let d = P.rank - 1u - i;
    let extent = P.in_shape[d / 4u][d % 4u];
    let offset = i32(rest % extent) - P.starts[d / 4u][d % 4u];
    rest /= extent;
    let step = P.steps[d / 4u][d % 4u];
    let o = offset / step;
    let out_extent = P.out_shape[d / 4u][d % 4u];
    if (o * step != offset || o < 0 || o >= i32(out_extent)) { taken = false; break; }
    read_at += u32(o) * stride;
    stride *= out_extent;
  }
  var g = 0.0;
  if (taken) { g = dy[read_at]; }
  if (P.accumulate != 0u) { dx[index] += g; } else { dx[index] = g; }
}
