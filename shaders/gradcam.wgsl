// Grad-CAM in one dispatch, one workgroup per image: channel weights (the spatial mean of the
// gradients), the ReLU of the weighted sum of the activation maps, the bilinear resize to the input
// size, and the min-max normalized copy. The low-resolution map goes through `coarse` (global memory)
// because a late-layer map can exceed workgroup memory.
@group(0) @binding(1) var<storage, read> activations: array<f32>;
@group(0) @binding(2) var<storage, read> weight_source: array<f32>;
@group(0) @binding(3) var<storage, read> picked: array<f32>;          // [batch, 2]: class, score
@group(0) @binding(4) var<storage, read_write> coarse: array<f32>;    // [batch, in_h * in_w]
@group(0) @binding(5) var<storage, read_write> raw: array<f32>;       // [batch, out_h, out_w]
@group(0) @binding(6) var<storage, read_write> normalized: array<f32>;

var<workgroup> alpha: array<f32, MAX_CHANNELS>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = wid.x;
  let class_index = u32(picked[2u * n]);
  for (var k = lane; k < P.channels; k += 256u) { alpha[k] = channel_weight(n, k, class_index); }
  workgroupBarrier();

  let plane = P.in_h * P.in_w;
  for (var p = lane; p < plane; p += 256u) {
    var sum = 0.0;
    for (var k = 0u; k < P.channels; k++) { sum += position_term(alpha[k], (n * P.channels + k) * plane + p); }
    coarse[n * plane + p] = max(sum, 0.0);
  }
  storageBarrier();
  workgroupBarrier();

  let pixels = P.out_h * P.out_w;
  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var q = lane; q < pixels; q += 256u) {
    let t = bilinear_taps(q / P.out_w, q % P.out_w);
    let base = n * plane;
    let v = interpolate(t, coarse[base + t.i00], coarse[base + t.i01], coarse[base + t.i10], coarse[base + t.i11]);
    raw[n * pixels + q] = v;
    lo = min(lo, v);
    hi = max(hi, v);
  }
  let range = workgroup_min_max(lane, lo, hi);
  // Each invocation re-reads only the pixels it wrote itself.
  for (var q = lane; q < pixels; q += 256u) {
    normalized[n * pixels + q] = normalize_unit(raw[n * pixels + q], range.x, range.y);
  }
}
