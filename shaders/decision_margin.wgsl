// How close the forward input of one elementwise decision (ReLU, Clip, HardSigmoid, HardSwish) came to
// a kink of its derivative, one workgroup per image: min |x - kink| over the units that receive a
// non-zero gradient, relative to the image's max |x|. Exact hits (distance 0) are left out: they come
// from the graph's structure (a ReLU of exact zeros) and float32 takes them the same way as exact
// arithmetic. The smallest margin over all decisions accumulates in `margin` (the first decision
// overwrites it). An image with no such unit gets 3.4e38. Two kinks at most (Clip, HardSigmoid).
struct Params {
  per_image: u32, kink_count: u32, accumulate: u32, pad: u32,
  kink0: f32, kink1: f32,
}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> margin: array<f32>; // [batch]

const NONE: f32 = 3.4e38;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let base = wid.x * P.per_image;
  var largest = 0.0;
  for (var i = lane; i < P.per_image; i += 256u) { largest = max(largest, abs(x[base + i])); }
  let scale = workgroup_min_max(lane, 0.0, largest).y;
  workgroupBarrier();

  var closest = NONE;
  for (var i = lane; i < P.per_image; i += 256u) {
    if (dy[base + i] == 0.0) { continue; }
    let v = x[base + i];
    var d = abs(v - P.kink0);
    if (P.kink_count > 1u) { d = min(d, abs(v - P.kink1)); }
    if (d > 0.0) { closest = min(closest, d); }
  }
  let nearest = workgroup_min_max(lane, closest, 0.0).x;
  if (lane == 0u) {
    let relative = select(NONE, nearest / scale, nearest < NONE && scale > 0.0);
    margin[wid.x] = select(relative, min(margin[wid.x], relative), P.accumulate == 1u);
  }
}
