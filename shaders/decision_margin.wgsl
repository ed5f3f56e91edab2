// How close the forward input of one elementwise decision (ReLU, Clip, HardSigmoid, HardSwish) came to
// a kink of its derivative, one workgroup per image: min |x - kink| over the units that receive a
// non-zero gradient, relative to the image's max |x|. Exact hits (distance 0) are left out: they come
// from the graph's structure (a ReLU of exact zeros) and float32 takes them the same way as exact
// arithmetic. The smallest margin over all decisions accumulates in `margin` (the first decision
// overwrites it). An image with no such unit gets 3.4e38. Two kinks at most (Clip, HardSigmoid).
// Nothing here compares with 0.0: a GPU that flushes denormals to zero would read a denormal gradient
// or distance as zero where lavapipe does not. A unit receives gradient when |dy| exceeds 2^-24 of the
// image's largest |dy| (below that its branch cannot move the result past rounding) and the smallest
// normal float32; a distance below the smallest normal counts as an exact hit.

const NONE: f32 = 3.4e38;
const SMALLEST_NORMAL: f32 = 1.17549435e-38;
const RECEIVES: f32 = 5.9604645e-8; // 2^-24

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * P.per_image;
  var largest = 0.0;
  var largest_dy = 0.0;
  for (var i = lane; i < P.per_image; i += WG) {
    largest = max(largest, abs(x[base + i]));
    largest_dy = max(largest_dy, abs(dy[base + i]));
  }
  // One reduction for both: the minimum of -|dy| is the largest |dy|.
  let scales = workgroup_min_max(lane, -largest_dy, largest);
  let scale = scales.y;
  let receives = max(-scales.x * RECEIVES, SMALLEST_NORMAL);
  workgroupBarrier();

  var closest = NONE;
  for (var i = lane; i < P.per_image; i += WG) {
    if (abs(dy[base + i]) < receives) { continue; }
    let v = x[base + i];
    var d = abs(v - P.kink0);
    if (P.kink_count > 1u) { d = min(d, abs(v - P.kink1)); }
    if (d >= SMALLEST_NORMAL) { closest = min(closest, d); }
  }
  let nearest = workgroup_min_max(lane, closest, 0.0).x;
  if (lane == 0u) {
    let relative = select(NONE, nearest / scale, nearest < NONE && scale > 0.0);
    store_margin(wid.x, relative);
  }
}
