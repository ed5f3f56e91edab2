// SmoothGrad, one invocation per value of the noisy batch [batch, per_image]: the copy's image plus
// Gaussian noise of standard deviation noise * (max - min) of that image; draw i of stream `copy`
// (shaders/random.wgsl), so every value is a function of (seed, copy, index) alone.

// The run's seed and noise level travel beside its first copy (src/explain/smooth.ts, smoothRun), so
// one plan serves every seed and noise level.
fn run_seed() -> u32 { return bitcast<u32>(first[1]); }
fn run_noise() -> f32 { return bitcast<f32>(first[2]); }

fn element(index: u32) {
  let j = index / P.per_image;
  let i = index % P.per_image;
  let n = copy_image(j);
  let sigma = run_noise() * (image_range[2u * n + 1u] - image_range[2u * n]);
  noisy[index] = image[n * P.per_image + i] + sigma * normal_draw(run_seed(), u32(first[0]) + j, i);
}
