// How close the forward input of one elementwise decision (ReLU, Clip, HardSigmoid, HardSwish) came to
// a kink of its derivative, one workgroup per image: min |x - kink| over the units that receive a
// non-zero gradient, relative to the image's max |x|. Exact hits (distance 0) are left out: they come
// from the graph's structure (a ReLU of exact zeros) and float32 takes them the same way as exact
// arithmetic. The smallest margin over all decisions accumulates in `margin` (the first decision
// overwrites it). An image with no such unit gets 3.4e38. Two kinks at most (Clip, HardSigmoid).

const NONE: f32 = 3.4e38;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * P.per_image;
  var largest = 0.0;
  for (var i = lane; i < P.per_image; i += WG) { largest = max(largest, abs(x[base + i])); }
  let scale = workgroup_min_max(lane, 0.0, largest).y;
  workgroupBarrier();

  var closest = NONE;
  for (var i = lane; i < P.per_image; i += WG) {
    if (dy[base + i] == 0.0) { continue; }
    let v = x[base + i];
    var d = abs(v - P.kink0);
    if (P.kink_count > 1u) { d = min(d, abs(v - P.kink1)); }
    if (d > 0.0) { closest = min(closest, d); }
  }
  let nearest = workgroup_min_max(lane, closest, 0.0).x;
  if (lane == 0u) {
    let relative = select(NONE, nearest / scale, nearest < NONE && scale > 0.0);
    store_margin(wid.x, relative);
  }
}
