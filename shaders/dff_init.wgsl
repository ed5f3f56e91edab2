// DFF, step 2, one workgroup per image: the starting factors, scikit-learn's 'random' initialization
// with our counter-based draws in place of NumPy's: every entry sqrt(mean(X) / components) times a
// uniform draw in (0, 1] (shaders/random.wgsl), W's from stream 0 at counter c * components + k, H's
// from stream 1 at k * plane + p, the same for every image and batch (the tests draw them in float64).

const DFF_SEED = 7u;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let n = wid.x;
  let values = P.channels * P.plane;
  var sum = 0.0;
  for (var i = lane; i < values; i += WG) { sum += shifted[n * values + i]; }
  let scale = sqrt(workgroup_sum(lane, sum) / f32(values) / f32(P.components));
  let w_size = P.channels * P.components;
  for (var i = lane; i < w_size; i += WG) { w[n * w_size + i] = scale * unit_draw(DFF_SEED, 0u, i); }
  let h_size = P.components * P.plane;
  for (var i = lane; i < h_size; i += WG) { h[n * h_size + i] = scale * unit_draw(DFF_SEED, 1u, i); }
}
