// With constant statistics the layer is a per-channel affine map: dx = dy * gain, a run of RUN
// elements of one channel plane per invocation, like the forward.

fn element(index: u32) {
  let run = run_of(index);
  let plane = run.x;
  let i0 = run.y;
  let g = gain(plane % P.channels);
  let base = plane * P.inner + i0;
  for (var j = 0u; j < RUN; j++) {
    if (i0 + j < P.inner) { store_dx(base + j, dy[base + j] * g); }
  }
}
