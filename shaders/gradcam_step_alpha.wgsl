// Unfused Grad-CAM, step 1 of 4: channel weights, one invocation per (image, channel).
@group(0) @binding(1) var<storage, read> activations: array<f32>;
@group(0) @binding(2) var<storage, read> weight_source: array<f32>;
@group(0) @binding(3) var<storage, read> picked: array<f32>;
@group(0) @binding(4) var<storage, read_write> alpha: array<f32>; // [batch, channels]

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.batch * P.channels) { return; }
  let n = index / P.channels;
  alpha[index] = channel_weight(n, index % P.channels, u32(picked[2u * n]));
}
