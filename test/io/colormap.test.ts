import { describe, expect, it } from 'vitest';
import { JET_RGB, applyJet, overlay } from '../../src/io/colormap.js';
import { readNpy, readNpyFloat32 } from '../../src/io/npy.js';
import { fixture } from './fixtures.js';

const entry = (i: number) => Array.from(JET_RGB.subarray(i * 3, i * 3 + 3));

describe('JET_RGB', () => {
  it("matches OpenCV's COLORMAP_JET at anchor entries", () => {
    // cv2.applyColorMap(np.arange(256, dtype=np.uint8), cv2.COLORMAP_JET), BGR reversed to RGB. Entries 96, 159
    // and 160 are ramp values that land on .5 before rounding, where float32 error picks the neighbour.
    const anchors: [number, number[]][] = [
      [0, [0, 0, 128]],
      [1, [0, 0, 132]],
      [32, [0, 0, 255]],
      [33, [0, 4, 255]],
      [95, [0, 252, 255]],
      [96, [2, 255, 254]],
      [127, [126, 255, 130]],
      [128, [130, 255, 126]],
      [159, [254, 255, 1]],
      [160, [255, 252, 0]],
      [223, [255, 0, 0]],
      [224, [252, 0, 0]],
      [255, [128, 0, 0]],
    ];
    for (const [i, rgb] of anchors) expect(entry(i), `entry ${i}`).toEqual(rgb);
  });

  it('matches the NumPy float32 rebuild of colormap.cpp in every entry', () => {
    const ref = readNpy(fixture('jet_lut.npy'));
    expect(ref.shape).toEqual([256, 3]);
    expect(JET_RGB).toEqual(ref.data);
  });
});

describe('applyJet', () => {
  it('indexes the table with np.uint8(255 * v), which truncates', () => {
    const map = Float32Array.from([0, 0.5, 1, 0.999]);
    const rgb = applyJet(map, 2, 2);
    expect(Array.from(rgb)).toEqual([...entry(0), ...entry(127), ...entry(255), ...entry(254)]);
  });

  it('rejects a map of the wrong size', () => {
    expect(() => applyJet(new Float32Array(5), 2, 2)).toThrow(/expected 2x2/);
  });
});

describe("overlay matches pytorch-grad-cam's show_cam_on_image", () => {
  const img = readNpyFloat32(fixture('overlay/img.npy'));
  const mask = readNpyFloat32(fixture('overlay/mask.npy'));
  const [h, w] = mask.shape;

  for (const weight of [0.5, 0.3]) {
    it(`image_weight=${weight}`, () => {
      const ref = readNpy(fixture(`overlay/cam_w${weight}.npy`));
      expect(ref.shape).toEqual([h, w, 3]);
      expect(overlay(img.data, mask.data, w, h, weight)).toEqual(ref.data);
    });
  }

  it('defaults to image_weight 0.5', () => {
    expect(overlay(img.data, mask.data, w, h)).toEqual(overlay(img.data, mask.data, w, h, 0.5));
  });

  it('rejects images outside [0, 1] and weights outside [0, 1]', () => {
    const bright = img.data.map((v) => v * 255);
    expect(() => overlay(bright, mask.data, w, h)).toThrow(/\[0, 1\]/);
    expect(() => overlay(img.data, mask.data, w, h, 1.5)).toThrow(/imageWeight/);
  });
});
