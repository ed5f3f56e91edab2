// DFF, last step, one workgroup per image: the relative reconstruction error |X - W H| / |X| (Frobenius
// norms), the concept that the head scores highest for the explained class (picked: class, score) and
// its row of H, the coarse map that the shared resize and normalization steps turn into the map.
// summary[n] = (chosen concept, relative error, the chosen score's lead over the runner-up relative to
// the largest |score|: how clear the choice is).

var<workgroup> chosen_concept: u32;

fn score_at(n: u32, k: u32, class_index: u32) -> f32 { return scores[(n * P.components + k) * P.classes + class_index]; }

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = wid.x;
  let values = P.channels * P.plane;
  var residual = 0.0;
  var total = 0.0;
  for (var i = lane; i < values; i += WG) {
    let c = i / P.plane;
    let p = i % P.plane;
    var product = 0.0;
    for (var k = 0u; k < P.components; k++) { product += w_at(n, c, k) * h_at(n, k, p); }
    let x = x_at(n, c, p);
    residual += (x - product) * (x - product);
    total += x * x;
  }
  let residual_sum = workgroup_sum(lane, residual);
  let total_sum = workgroup_sum(lane, total);
  if (lane == 0u) {
    let target_class = u32(picked[2u * n]);
    var best = 0u;
    var largest = 0.0;
    for (var k = 0u; k < P.components; k++) {
      let s = score_at(n, k, target_class);
      largest = max(largest, abs(s));
      if (s > score_at(n, best, target_class)) { best = k; }
    }
    var runner_up = -3.4e38;
    for (var k = 0u; k < P.components; k++) {
      if (k != best) { runner_up = max(runner_up, score_at(n, k, target_class)); }
    }
    let lead = select((score_at(n, best, target_class) - runner_up) / max(largest, 1e-30), 1.0, P.components == 1u);
    chosen_concept = best;
    summary[3u * n] = f32(best);
    summary[3u * n + 1u] = sqrt(residual_sum / max(total_sum, 1e-30));
    summary[3u * n + 2u] = lead;
  }
  workgroupBarrier();
  let k = chosen_concept;
  for (var p = lane; p < P.plane; p += WG) { coarse[n * P.plane + p] = h_at(n, k, p); }
}
