// SmoothGrad, one invocation per value of the noisy batch [batch, per_image]: the copy's image plus
// Gaussian noise of standard deviation noise * (max - min) of that image. The generator is counter-based,
// so every value is a function of (seed, copy, index) alone, whatever the batch size:
//   h(x) = PCG's output hash of x (O'Neill 2014; Jarzynski & Olano 2020),
//   u = (h(h(h(seed) ^ copy) ^ 2 index + s) >> 8 + 1) / 2^24 for s = 0, 1, in (0, 1],
//   z = sqrt(-2 ln u_0) cos(2 pi u_1) (Box-Muller).
// test/gradcam.test.ts draws the same numbers in float64 to check the smoothed maps.

fn pcg_hash(x: u32) -> u32 {
  let state = x * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn unit_draw(copy: u32, counter: u32) -> f32 {
  let h = pcg_hash(pcg_hash(pcg_hash(P.seed) ^ copy) ^ counter);
  return f32((h >> 8u) + 1u) / 16777216.0;
}

fn element(index: u32) {
  let j = index / P.per_image;
  let i = index % P.per_image;
  let n = copy_image(j);
  let copy = u32(first[0]) + j;
  let u0 = unit_draw(copy, 2u * i);
  let u1 = unit_draw(copy, 2u * i + 1u);
  let z = sqrt(-2.0 * log(u0)) * cos(6.283185307179586 * u1);
  let sigma = P.noise * (image_range[2u * n + 1u] - image_range[2u * n]);
  noisy[index] = image[n * P.per_image + i] + sigma * z;
}
