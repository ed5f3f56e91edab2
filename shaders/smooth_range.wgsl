// SmoothGrad, one workgroup per image: the image's min and max, [images, 2] (the noise's scale is a
// fraction of this range, as Smilkov et al. define it).

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * P.per_image;
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var i = lane; i < P.per_image; i += WG) {
    lo = min(lo, image[base + i]);
    hi = max(hi, image[base + i]);
  }
  let range = workgroup_min_max(lane, lo, hi);
  if (lane == 0u) {
    image_range[2u * wid.x] = range.x;
    image_range[2u * wid.x + 1u] = range.y;
  }
}
