// ReduceMean backward: every input element receives dy / count of the output it was reduced into.
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.out_count * P.reduce_count) { return; }
  let g = dy[output_index(index)] / f32(P.reduce_count);
  if (P.accumulate != 0u) { dx[index] += g; } else { dx[index] = g; }
}
