// Unfused Grad-CAM, step 4 of 4: per-image min-max normalization, one workgroup per image.
@group(0) @binding(1) var<storage, read> raw: array<f32>;
@group(0) @binding(2) var<storage, read_write> normalized: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let pixels = P.out_h * P.out_w;
  let base = wid.x * pixels;
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var q = lane; q < pixels; q += 256u) {
    lo = min(lo, raw[base + q]);
    hi = max(hi, raw[base + q]);
  }
  let range = workgroup_min_max(lane, lo, hi);
  for (var q = lane; q < pixels; q += 256u) {
    normalized[base + q] = normalize_unit(raw[base + q], range.x, range.y);
  }
}
