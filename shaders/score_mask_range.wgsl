// Score-CAM, one workgroup per copy: the min of its upsampled channel and its range (max - min), [batch, 2].
// The range is stored, not the max, so that score_mask adds the epsilon to a loaded value (see
// fullgrad_range.wgsl: a compiler may reassociate max - min + 1e-8, and a constant channel divides 0 by 0).

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
    mask_range[2u * copy + 1u] = range.y - range.x;
  }
}
