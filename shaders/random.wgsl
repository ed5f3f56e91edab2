// A counter-based generator: every draw is a function of (seed, stream, counter) alone, so the numbers
// do not depend on batch sizes or dispatch order.
//   h(x) = PCG's output hash of x (O'Neill 2014; Jarzynski & Olano 2020),
//   u = (h(h(h(seed) ^ stream) ^ 2 i + s) >> 8 + 1) / 2^24 for s = 0, 1, in (0, 1],
//   z = sqrt(-2 ln u_0) cos(2 pi u_1) (Box-Muller), a standard normal draw.
// The tests draw the same numbers in float64 (test/support/random.ts, scripts/counter_random.py).

fn pcg_hash(x: u32) -> u32 {
  let state = x * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn unit_draw(seed: u32, stream: u32, counter: u32) -> f32 {
  let h = pcg_hash(pcg_hash(pcg_hash(seed) ^ stream) ^ counter);
  return f32((h >> 8u) + 1u) / 16777216.0;
}

fn normal_draw(seed: u32, stream: u32, i: u32) -> f32 {
  let u0 = unit_draw(seed, stream, 2u * i);
  let u1 = unit_draw(seed, stream, 2u * i + 1u);
  return sqrt(-2.0 * log(u0)) * cos(6.283185307179586 * u1);
}
