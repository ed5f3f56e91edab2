// Unfused Grad-CAM, step 4 of 4: per-image min-max normalization, one workgroup per image.

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let pixels = output_size();
  let base = wid.x * pixels;
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var q = lane; q < pixels; q += WG) {
    lo = min(lo, raw[base + q]);
    hi = max(hi, raw[base + q]);
  }
  let range = workgroup_min_max(lane, lo, hi);
  for (var q = lane; q < pixels; q += WG) {
    normalized[base + q] = normalize_unit(raw[base + q], range.x, range.y);
  }
}
