// The mean baseline, one workgroup per (image, channel): the plane's mean value.

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * P.plane;
  var sum = 0.0;
  for (var i = lane; i < P.plane; i += WG) { sum += images[base + i]; }
  let total = workgroup_sum(lane, sum);
  if (lane == 0u) { channel_mean[wid.x] = total / f32(P.plane); }
}
