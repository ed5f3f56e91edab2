// The metrics' arithmetic on what the GPU measured: the order of a map's pixels, the pixel counts of a
// deletion/insertion curve, its area, Average Drop and Increase in Confidence. Each follows its paper;
// the float64 references in scripts/make_metric_refs.py implement the same definitions independently.

/**
 * Each pixel's place in the map's order, most relevant first: rank[p] = j when p is the j-th largest;
 * equal values keep the order of their index (a stable sort, so ties do not depend on the sort).
 */
export function mapRanks(map: ArrayLike<number>, offset: number, plane: number): Int32Array {
  const order = Array.from({ length: plane }, (_, p) => p);
  order.sort((a, b) => map[offset + b] - map[offset + a] || a - b);
  const ranks = new Int32Array(plane);
  order.forEach((p, j) => (ranks[p] = j));
  return ranks;
}

/**
 * RISE's curve (Petsiuk et al. 2018): `step` = ceil(H*W / steps) pixels per step; point i has
 * min(i * step, H*W) pixels deleted (inserted), i = 0 .. ceil(H*W / step).
 */
export function curvePixels(plane: number, steps: number): number[] {
  const step = Math.ceil(plane / steps);
  const points = Math.ceil(plane / step);
  return Array.from({ length: points + 1 }, (_, i) => Math.min(i * step, plane));
}

/** The area under a curve of evenly spaced points over [0, 1], by the trapezoid rule (RISE's auc). */
export function curveArea(curve: ArrayLike<number>): number {
  const n = curve.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += curve[i];
  return (sum - curve[0] / 2 - curve[n - 1] / 2) / (n - 1);
}

/**
 * Chattopadhay et al. 2018 (Grad-CAM++): Y the class probability of the image, O that of the image
 * times its map. Average Drop % = 100 * mean(max(0, Y - O) / Y); Increase in Confidence % =
 * 100 * mean(O > Y).
 */
export function averageDrop(original: ArrayLike<number>, explained: ArrayLike<number>): { averageDrop: number; increase: number } {
  let drop = 0;
  let increase = 0;
  for (let i = 0; i < original.length; i++) {
    drop += Math.max(0, original[i] - explained[i]) / original[i];
    increase += explained[i] > original[i] ? 1 : 0;
  }
  return { averageDrop: (100 * drop) / original.length, increase: (100 * increase) / original.length };
}

/**
 * A map per pixel for ordering and multiplying: the CAM maps as they are; an image-shaped gradient
 * (the guided methods, [N, C, H, W]) as its largest magnitude over channels (Simonyan et al.'s saliency).
 */
export function pixelMap(map: Float32Array, shape: readonly number[]): Float32Array {
  if (shape.length === 3) return map;
  const [n, c, h, w] = shape;
  const plane = h * w;
  const out = new Float32Array(n * plane);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      for (let p = 0; p < plane; p++) out[i * plane + p] = Math.max(out[i * plane + p], Math.abs(map[(i * c + k) * plane + p]));
    }
  }
  return out;
}

/** Per image (m - min) / (max - min), zeros where the map is constant (as the explanations' normalized maps). */
export function minMaxNormalized(map: Float32Array, plane: number): Float32Array {
  const out = new Float32Array(map.length);
  for (let base = 0; base < map.length; base += plane) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = 0; p < plane; p++) {
      lo = Math.min(lo, map[base + p]);
      hi = Math.max(hi, map[base + p]);
    }
    for (let p = 0; p < plane; p++) out[base + p] = hi > lo ? (map[base + p] - lo) / (hi - lo) : 0;
  }
  return out;
}
