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
 * A map per position for ordering and multiplying: the CAM maps ([N, spatial...]) as they are; an
 * input-shaped gradient (the guided methods, [N, C, spatial...]) as its largest magnitude over channels
 * (Simonyan et al.'s saliency). `inputRank`: the images' rank (4 for [N, C, H, W]).
 */
export function pixelMap(map: Float32Array, shape: readonly number[], inputRank = 4): Float32Array {
  if (shape.length === inputRank - 1) return map;
  const [n, c, ...spatial] = shape;
  const plane = spatial.reduce((a, b) => a * b, 1);
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

/** Ranks 1..n, ties given the mean of the ranks they span (as Spearman's coefficient defines them). */
function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]] === values[order[start]]) end++;
    for (let k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

/** Sums of the centred products of two runs of values: sum (a - mean a)(b - mean b), sum (a - mean a)^2, sum (b - mean b)^2. */
function centredSums(a: ArrayLike<number>, b: ArrayLike<number>, offset: number, length: number): { ab: number; aa: number; bb: number } {
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < length; i++) {
    meanA += a[offset + i];
    meanB += b[offset + i];
  }
  meanA /= length;
  meanB /= length;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < length; i++) {
    const da = a[offset + i] - meanA;
    const db = b[offset + i] - meanB;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return { ab, aa, bb };
}

/**
 * Spearman's rank correlation: Pearson's correlation of the average ranks. A constant map has no order
 * to agree with: 0 (where Pearson's is 0 / 0).
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const { ab, aa, bb } = centredSums(averageRanks(a), averageRanks(b), 0, a.length);
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * SSIM (Wang et al. 2004) of two maps, each min-max normalized to [0, 1] first (data range 1): an 11x11
 * Gaussian window of sigma 1.5, K1 = 0.01, K2 = 0.03, local statistics weighted by the window at every
 * position where it fits inside the image, and their mean. Maps smaller than the window are compared
 * with one window covering them (truncated to the map).
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number): number {
  const unit = (m: ArrayLike<number>) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < m.length; i++) {
      lo = Math.min(lo, m[i]);
      hi = Math.max(hi, m[i]);
    }
    return Float64Array.from(m as ArrayLike<number>, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
  };
  const x = unit(a);
  const y = unit(b);
  const radius = 5;
  const g = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * 1.5 * 1.5)));
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  const rh = Math.min(radius, Math.floor((height - 1) / 2));
  const rw = Math.min(radius, Math.floor((width - 1) / 2));
  let total = 0;
  let windows = 0;
  for (let cy = rh; cy < height - rh; cy++) {
    for (let cx = rw; cx < width - rw; cx++) {
      let w = 0;
      let mx = 0;
      let my = 0;
      for (let dy = -rh; dy <= rh; dy++) {
        for (let dx = -rw; dx <= rw; dx++) {
          const k = g[dy + radius] * g[dx + radius];
          const p = (cy + dy) * width + cx + dx;
          w += k;
          mx += k * x[p];
          my += k * y[p];
        }
      }
      mx /= w;
      my /= w;
      let vx = 0;
      let vy = 0;
      let cxy = 0;
      for (let dy = -rh; dy <= rh; dy++) {
        for (let dx = -rw; dx <= rw; dx++) {
          const k = g[dy + radius] * g[dx + radius] / w;
          const p = (cy + dy) * width + cx + dx;
          vx += k * (x[p] - mx) ** 2;
          vy += k * (y[p] - my) ** 2;
          cxy += k * (x[p] - mx) * (y[p] - my);
        }
      }
      total += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      windows++;
    }
  }
  return total / windows;
}

/** Pearson's correlation of two maps' values (n - 1 in both the covariance and the deviations, 1e-8 added to their product, as pytorch-grad-cam's ARCC computes it). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>, offset: number, plane: number): number {
  const { ab, aa, bb } = centredSums(a, b, offset, plane);
  return ab / (plane - 1) / (Math.sqrt(aa / (plane - 1)) * Math.sqrt(bb / (plane - 1)) + 1e-8);
}

/**
 * ARCC (pytorch-grad-cam's metrics/arcc.py): the harmonic mean of Coherency, 1 - Complexity and ROAD
 * scaled to [0, 1] (twice the combined score, clipped), each with 1e-8 added to it.
 */
export function arccScore(coherency: number, complexity: number, road: number): number {
  const scaled = Math.min(Math.max(2 * road, 0), 1);
  return 3 / (1 / (coherency + 1e-8) + 1 / (1 - complexity + 1e-8) + 1 / (scaled + 1e-8));
}

