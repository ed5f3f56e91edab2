// LRN forward: one invocation per element.
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.count) { return; }
  y[index] = x[index] * pow(denominator(column_start(index), channel_of(index)), -P.beta);
}
