// Score-CAM, one workgroup per copy: the min and max of its upsampled channel, [batch, 2].

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let copy = wid.x;
  let pair = copy_target(copy);
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var q = lane; q < P.out_h * P.out_w; q += WG) {
    let v = upsampled(pair.n, pair.k, q / P.out_w, q % P.out_w);
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let range = workgroup_min_max(lane, lo, hi);
  if (lane == 0u) {
    mask_range[2u * copy] = range.x;
    mask_range[2u * copy + 1u] = range.y;
  }
}
