// With constant statistics the layer is a per-channel affine map: dx = dy * gain, a run of RUN
// elements of one channel plane per invocation, like the forward.

fn element(index: u32) {
  let runs = (P.inner + RUN - 1u) / RUN;
  let plane = index / runs;
  let i0 = (index % runs) * RUN;
  let g = gain(plane % P.channels);
  let base = plane * P.inner + i0;
  for (var j = 0u; j < RUN; j++) {
    if (i0 + j < P.inner) { store_dx(base + j, dy[base + j] * g); }
  }
}
