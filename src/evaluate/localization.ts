// Localization metrics on one map [H, W] and ground-truth boxes [x0, y0, x1, y1] (pixels, x1 and y1
// exclusive), computed on the CPU from maps the GPU produced: the pointing game (Zhang et al. 2016) and
// the Grad-CAM paper's box (Selvaraju et al. 2017).

export type Box = [number, number, number, number];

/** The pointing game's tolerance in pixels (Zhang et al.: 15). */
export const POINTING_TOLERANCE = 15;

/**
 * Pointing game: does the map's maximum (the first, in index order, where several are equal) lie within
 * `tolerance` pixels (Euclidean) of a box?
 */
export function pointingHit(map: Float32Array, width: number, boxes: Box | Box[], tolerance = POINTING_TOLERANCE): boolean {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  const x = best % width;
  const y = Math.floor(best / width);
  const list = (typeof boxes[0] === 'number' ? [boxes] : boxes) as Box[];
  return list.some((box) => {
    const dx = Math.max(box[0] - x, 0, x - (box[2] - 1));
    const dy = Math.max(box[1] - y, 0, y - (box[3] - 1));
    return dx * dx + dy * dy <= tolerance * tolerance;
  });
}

/**
 * The paper's box: binarize at `fraction` of the map's maximum, keep the largest 8-connected
 * component, return its bounding box (exclusive ends), or undefined when nothing is above threshold.
 */
export function boxFromMap(map: Float32Array, width: number, height: number, fraction = 0.15): Box | undefined {
  const max = map.reduce((m, v) => Math.max(m, v), 0);
  if (max <= 0) return undefined;
  const threshold = fraction * max;
  const label = new Int32Array(map.length).fill(-1);
  let bestBox: Box | undefined;
  let bestSize = 0;
  const stack: number[] = [];
  for (let start = 0; start < map.length; start++) {
    if (map[start] < threshold || label[start] >= 0) continue;
    label[start] = start;
    stack.push(start);
    const box: Box = [width, height, 0, 0];
    let size = 0;
    while (stack.length > 0) {
      const p = stack.pop()!;
      const x = p % width;
      const y = Math.floor(p / width);
      size++;
      box[0] = Math.min(box[0], x);
      box[1] = Math.min(box[1], y);
      box[2] = Math.max(box[2], x + 1);
      box[3] = Math.max(box[3], y + 1);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (label[q] < 0 && map[q] >= threshold) {
            label[q] = start;
            stack.push(q);
          }
        }
      }
    }
    if (size > bestSize) {
      bestSize = size;
      bestBox = box;
    }
  }
  return bestBox;
}

export function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  const area = (r: Box) => (r[2] - r[0]) * (r[3] - r[1]);
  return inter / (area(a) + area(b) - inter);
}
