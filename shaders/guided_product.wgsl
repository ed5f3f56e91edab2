// Guided Grad-CAM: the guided gradient at the input [batch, channels, pixels] times the Grad-CAM map
// [batch, pixels] (after ReLU and resize), broadcast over the channels.
struct Params { count: u32, channels: u32, pixels: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> guided: array<f32>;
@group(0) @binding(2) var<storage, read> map: array<f32>;
@group(0) @binding(3) var<storage, read_write> product: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_index(gid, nwg);
  if (i >= P.count) { return; }
  let n = i / (P.channels * P.pixels);
  product[i] = guided[i] * map[n * P.pixels + i % P.pixels];
}
