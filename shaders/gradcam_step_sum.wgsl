// Unfused Grad-CAM, step 2 of 4: ReLU of the sum of the channels' terms, one invocation per position.
@group(0) @binding(1) var<storage, read> activations: array<f32>;
@group(0) @binding(2) var<storage, read> weight_source: array<f32>;
@group(0) @binding(3) var<storage, read> alpha: array<f32>;
@group(0) @binding(4) var<storage, read_write> coarse: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let plane = P.in_h * P.in_w;
  let index = flat_index(gid, nwg);
  if (index >= P.batch * plane) { return; }
  let n = index / plane;
  var sum = 0.0;
  for (var k = 0u; k < P.channels; k++) { sum += position_term(alpha[n * P.channels + k], (n * P.channels + k) * plane + index % plane); }
  coarse[index] = max(sum, 0.0);
}
