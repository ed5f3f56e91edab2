// Picks the class of each image (the requested one, or the top-1 when the request is negative) and
// writes the gradient seed: d(score of that class)/d(scores) = one-hot. Runs on the GPU so that the
// forward pass, the backward pass and the map stay one submission.
struct Params { batch: u32, classes: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;    // [batch, classes]
@group(0) @binding(2) var<storage, read> requested: array<i32>; // [batch]
@group(0) @binding(3) var<storage, read_write> seed: array<f32>; // [batch, classes]
@group(0) @binding(4) var<storage, read_write> picked: array<f32>; // [batch, 2]: class, score

fn chosen_class(n: u32) -> u32 {
  if (requested[n] >= 0) { return u32(requested[n]); }
  var best = 0u;
  for (var c = 1u; c < P.classes; c++) {
    if (scores[n * P.classes + c] > scores[n * P.classes + best]) { best = c; }
  }
  return best;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let index = flat_index(gid, nwg);
  if (index >= P.batch * P.classes) { return; }
  let n = index / P.classes;
  let c = chosen_class(n);
  seed[index] = select(0.0, 1.0, index % P.classes == c);
  if (index % P.classes == 0u) {
    picked[2u * n] = f32(c);
    picked[2u * n + 1u] = scores[n * P.classes + c];
  }
}
