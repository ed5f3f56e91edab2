// Grad-CAM in one dispatch, one workgroup per image: channel weights (the spatial mean of the
// gradients), the ReLU of the weighted sum of the activation maps, the (bi/tri)linear resize to the input
// size, and the min-max normalized copy. The low-resolution map goes through `coarse` (global memory)
// because a late-layer map can exceed workgroup memory.

var<workgroup> alpha: array<f32, {{ALPHA}}>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = wid.x;
  let class_index = u32(picked[2u * n]);
  for (var k = lane; k < P.channels; k += WG) { alpha[k] = channel_weight(n, k, class_index, picked[2u * n + 1u]); }
  workgroupBarrier();

  let plane = grid_size();
  for (var p = lane; p < plane; p += WG) {
    var sum = 0.0;
    for (var k = 0u; k < P.channels; k++) { sum += position_term(alpha[k], n, k, p); }
    coarse[n * plane + p] = max(sum, 0.0);
  }
  storageBarrier();
  workgroupBarrier();

  let pixels = output_size();
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var q = lane; q < pixels; q += WG) {
    let v = resized(n * plane, q);
    raw[n * pixels + q] = v;
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let range = workgroup_min_max(lane, lo, hi);
  // Each invocation re-reads only the pixels it wrote itself.
  for (var q = lane; q < pixels; q += WG) {
    normalized[n * pixels + q] = normalize_unit(raw[n * pixels + q], range.x, range.y);
  }
}
