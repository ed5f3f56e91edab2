// SmoothGrad and --smooth-aug, one invocation per value of the per-image result [images, per_image]:
// folds in this run's copies of the image, in copy order, so that no two invocations write one value.
// The run that holds an image's first copy starts its value afresh. mode 0: the mean (each copy adds its
// value / samples); mode 1: the minimum (decision margins). mirror: 0, or the width of the last axis
// along which --smooth-aug's copies from sample samples / 2 on were mirrored: their values are read
// mirrored back.

fn copy_source(sample: u32, i: u32) -> u32 {
  if (P.mirror == 0u || sample < P.samples / 2u) { return i; }
  let x = i % P.mirror;
  return i - x + (P.mirror - 1u - x);
}

fn element(index: u32) {
  let n = index / P.per_image;
  let i = index % P.per_image;
  let first_copy = n * P.samples;
  let run_start = u32(first[0]);
  if (first_copy + P.samples <= run_start || first_copy >= run_start + P.batch) { return; }
  var value = result[index];
  if (first_copy >= run_start) { value = select(0.0, 3.4e38, P.mode == 1u); }
  let begin = max(first_copy, run_start) - run_start;
  let end = min(first_copy + P.samples, run_start + P.batch) - run_start;
  for (var j = begin; j < end; j++) {
    let v = per_copy[j * P.per_image + copy_source(run_start + j - first_copy, i)];
    if (P.mode == 1u) { value = min(value, v); } else { value += v / f32(P.samples); }
  }
  result[index] = value;
}
