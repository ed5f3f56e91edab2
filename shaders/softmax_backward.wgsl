// From the forward output y: Softmax dx = y * (dy - sum(dy * y)); LogSoftmax dx = dy - exp(y) * sum(dy).
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = flat_index(gid, nwg);
  if (row >= P.outer * P.inner) { return; }
  let start = row_start(row);
  let is_log = P.log_softmax != 0u;
  var total = 0.0;
  for (var j = 0u; j < P.n; j++) {
    let at = start + j * P.inner;
    if (is_log) { total += dy[at]; } else { total += dy[at] * y[at]; }
  }
  for (var j = 0u; j < P.n; j++) {
    let at = start + j * P.inner;
    var g: f32;
    if (is_log) { g = dy[at] - exp(y[at]) * total; } else { g = y[at] * (dy[at] - total); }
    if (P.accumulate != 0u) { dx[at] += g; } else { dx[at] = g; }
  }
}
