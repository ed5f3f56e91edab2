// The papers' picture of a gradient image, one workgroup per image: standardize (subtract the mean,
// divide by the standard deviation), x0.1, +0.5, clip to [0, 1]. pytorch-grad-cam divides by std + 1e-5,
// an epsilon with units that turns the 1e-16 gradients of a deep net uniformly grey; here the values are
// first divided by their largest magnitude (no epsilon), so the picture does not depend on the
// gradient's scale. A constant image gives 0.5 everywhere.

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * P.per_image;
  var largest = 0.0;
  for (var i = lane; i < P.per_image; i += WG) { largest = max(largest, abs(values[base + i])); }
  let largest_magnitude = workgroup_min_max(lane, 0.0, largest).y;
  // No early return for an all-zero image: the barriers below need every invocation.
  let scale = select(1.0, largest_magnitude, largest_magnitude > 0.0);
  var sum = 0.0;
  for (var i = lane; i < P.per_image; i += WG) { sum += values[base + i] / scale; }
  let mean = workgroup_sum(lane, sum) / f32(P.per_image);
  var squares = 0.0;
  for (var i = lane; i < P.per_image; i += WG) {
    let d = values[base + i] / scale - mean;
    squares += d * d;
  }
  let deviation = sqrt(workgroup_sum(lane, squares) / f32(P.per_image));
  for (var i = lane; i < P.per_image; i += WG) {
    let standardized = (values[base + i] / scale - mean) / deviation;
    image[base + i] = select(0.5, clamp(standardized * 0.1 + 0.5, 0.0, 1.0), deviation > 0.0);
  }
}
