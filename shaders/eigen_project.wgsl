// EigenCAM, step 4, one workgroup per image: the top eigenvector from the power (the column of
// u u^T with the largest diagonal entry, u scaled by one of its largest components, so never the
// cancelling column of a small one), one power step with the Gram matrix itself, the projection on the
// positions, and the sign: an SVD's sign is arbitrary, so the projection is flipped where |min| > |max|,
// as pytorch-grad-cam's sign-corrected projection does. Then the ReLU that every method's map takes.
// vector holds, per image, v (the column) and w = G v: [batch, 2, dim].

var<workgroup> best_value: array<f32, WG>;
var<workgroup> best_index: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = wid.x;
  var value = -1.0;
  var index = 0u;
  for (var j = lane; j < P.dim; j += WG) {
    let d = power[gram_index(n, j, j)];
    if (d > value) { value = d; index = j; }
  }
  best_value[lane] = value;
  best_index[lane] = index;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride && best_value[lane + stride] > best_value[lane]) {
      best_value[lane] = best_value[lane + stride];
      best_index[lane] = best_index[lane + stride];
    }
    workgroupBarrier();
  }
  let column = best_index[0];
  let v_base = 2u * n * P.dim;
  let w_base = v_base + P.dim;
  for (var i = lane; i < P.dim; i += WG) { vector[v_base + i] = power[gram_index(n, i, column)]; }
  storageBarrier();
  workgroupBarrier();
  var vw = 0.0;
  var ww = 0.0;
  for (var i = lane; i < P.dim; i += WG) {
    var sum = 0.0;
    for (var k = 0u; k < P.dim; k++) { sum += gram[gram_index(n, i, k)] * vector[v_base + k]; }
    vector[w_base + i] = sum;
    vw += sum * vector[v_base + i];
    ww += sum * sum;
  }
  let v_gram_v = workgroup_sum(lane, vw);
  let w_norm = sqrt(workgroup_sum(lane, ww));
  storageBarrier();
  workgroupBarrier();

  var lo = 3.4e38;
  var hi = -3.4e38;
  for (var q = lane; q < P.plane; q += WG) {
    var p = 0.0;
    if (P.over_channels == 1u) {
      // G v / sqrt(v^T G v): sigma_1 u_1 for any scaling of v.
      if (v_gram_v > 0.0) { p = vector[w_base + q] / sqrt(v_gram_v); }
    } else {
      // X v_1 with v_1 = w / |w|.
      var sum = 0.0;
      for (var k = 0u; k < P.channels; k++) {
        sum += centred[(n * P.channels + k) * P.plane + q] * vector[w_base + k];
      }
      if (w_norm > 0.0) { p = sum / w_norm; }
    }
    coarse[n * P.plane + q] = p;
    lo = min(lo, p);
    hi = max(hi, p);
  }
  let range = workgroup_min_max(lane, lo, hi);
  let sign = select(1.0, -1.0, -range.x > range.y);
  // Each invocation rewrites only the positions it wrote itself.
  for (var q = lane; q < P.plane; q += WG) {
    coarse[n * P.plane + q] = max(sign * coarse[n * P.plane + q], 0.0);
  }
}
