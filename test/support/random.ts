// shaders/random.wgsl's generator in float64, for tests that check what the GPU drew: PCG's output hash,
// then Box-Muller.

export function pcgHash(x: number): number {
  const state = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Draw i of stream `stream` under `seed`: a standard normal number. */
export function normalDraw(seed: number, stream: number, i: number): number {
  const unit = (counter: number) => ((pcgHash((pcgHash((pcgHash(seed) ^ stream) >>> 0) ^ counter) >>> 0) >>> 8) + 1) / 2 ** 24;
  return Math.sqrt(-2 * Math.log(unit(2 * i))) * Math.cos(2 * Math.PI * unit(2 * i + 1));
}
