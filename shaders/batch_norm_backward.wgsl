// With constant statistics the layer is a per-channel affine map: dx = dy * gain.
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> variance: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.count) { return; }
  let g = dy[index] * gain(channel_of(index));
  if (P.accumulate != 0u) { dx[index] += g; } else { dx[index] = g; }
}
