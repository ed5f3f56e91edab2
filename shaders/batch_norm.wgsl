// Each invocation normalizes a run of RUN neighbouring elements of one channel plane: the channel's
// statistics are loaded, and its gain computed, once per run rather than once per element (on
// llvmpipe a load costs about three multiply-adds and an integer division far more). The output
// goes through activated(): a ReLU or Clip that alone reads it runs in this write
// (src/plan/fusion.ts).

fn element(index: u32) {
  let run = run_of(index);
  let plane = run.x;
  let i0 = run.y;
  let c = plane % P.channels;
  let g = gain(c);
  let m = mean[c];
  let b = bias[c];
  let base = plane * P.inner + i0;
  for (var j = 0u; j < RUN; j++) {
    if (i0 + j < P.inner) { y[base + j] = activated((x[base + j] - m) * g + b); }
  }
}
