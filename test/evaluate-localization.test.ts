// The localization metrics (src/evaluate/localization.ts) on maps whose answers follow by hand.
import { describe, expect, it } from 'vitest';
import { boxFromMap, iou, pointingHit } from '../src/evaluate/localization.js';

function mapWith(width: number, height: number, blobs: { x0: number; y0: number; x1: number; y1: number; value: number }[]) {
  const map = new Float32Array(width * height);
  for (const b of blobs) for (let y = b.y0; y < b.y1; y++) for (let x = b.x0; x < b.x1; x++) map[y * width + x] = b.value;
  return map;
}

describe('localization metrics', () => {
  it('pointing game uses the exclusive box ends', () => {
    const map = mapWith(10, 8, [{ x0: 4, y0: 3, x1: 5, y1: 4, value: 1 }]);
    expect(pointingHit(map, 10, [4, 3, 5, 4], 0)).toBe(true);
    expect(pointingHit(map, 10, [0, 0, 4, 3], 0)).toBe(false);
  });

  it('pointing game counts a maximum within the tolerance of any box, Euclidean', () => {
    const map = mapWith(40, 40, [{ x0: 30, y0: 30, x1: 31, y1: 31, value: 1 }]);
    // The box's last pixel is (19, 19): the maximum (30, 30) is sqrt(11^2 + 11^2) = 15.6 pixels away.
    expect(pointingHit(map, 40, [0, 0, 20, 20], 15)).toBe(false);
    expect(pointingHit(map, 40, [0, 0, 20, 20], 16)).toBe(true);
    // Level with a box that ends at row 30: 11 pixels, within 15 but not within 10.
    expect(pointingHit(map, 40, [0, 0, 20, 31], 15)).toBe(true);
    expect(pointingHit(map, 40, [0, 0, 20, 31], 10)).toBe(false);
    expect(pointingHit(map, 40, [[0, 0, 5, 5], [0, 0, 20, 31]], 15)).toBe(true);
  });

  it('keeps the largest connected component above 15% of the max, not the brightest', () => {
    // A bright small blob and a larger dimmer blob (above 15% of the max) elsewhere.
    const map = mapWith(20, 10, [
      { x0: 1, y0: 1, x1: 3, y1: 3, value: 1 },
      { x0: 8, y0: 2, x1: 18, y1: 9, value: 0.2 },
    ]);
    expect(boxFromMap(map, 20, 10)).toEqual([8, 2, 18, 9]);
    // Below the threshold the dim blob disappears.
    map.forEach((v, i) => (map[i] = v === Math.fround(0.2) ? 0.1 : v));
    expect(boxFromMap(map, 20, 10)).toEqual([1, 1, 3, 3]);
    expect(boxFromMap(new Float32Array(200), 20, 10)).toBeUndefined();
  });

  it('connects diagonal neighbours (8-connectivity)', () => {
    const map = mapWith(6, 6, [
      { x0: 0, y0: 0, x1: 1, y1: 1, value: 1 },
      { x0: 1, y0: 1, x1: 2, y1: 2, value: 1 },
      { x0: 2, y0: 2, x1: 3, y1: 3, value: 1 },
    ]);
    expect(boxFromMap(map, 6, 6)).toEqual([0, 0, 3, 3]);
  });

  it('computes intersection over union', () => {
    expect(iou([0, 0, 4, 4], [0, 0, 4, 4])).toBe(1);
    expect(iou([0, 0, 4, 4], [2, 0, 6, 4])).toBeCloseTo(8 / 24, 12);
    expect(iou([0, 0, 2, 2], [3, 3, 5, 5])).toBe(0);
  });
});
