// dx = dy * f'(.) elementwise; {{GRAD}} is the derivative in v, the forward value (x or y) it is exact from.
// {{PASS}} is true, or, for guided back-propagation's ReLU, dy[i] > 0.0.
@group(0) @binding(1) var<storage, read> saved: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

fn derivative(v: f32) -> f32 {
  return {{GRAD}};
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= P.count) { return; }
  let g = select(0.0, dy[i] * derivative(saved[i]), {{PASS}});
  if (P.accumulate != 0u) { dx[i] += g; } else { dx[i] = g; }
}
