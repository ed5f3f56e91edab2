// OpenCV's COLORMAP_JET and pytorch-grad-cam's show_cam_on_image, reproduced bit for bit.
//
// Source of the table: opencv/modules/imgproc/src/colormap.cpp, class Jet. It holds GNU Octave's jet(256)
// as float32 literals, x = i / 255:
//   r = 4x - 1.5 on [3/8, 5/8), 1 on [5/8, 7/8), 4.5 - 4x from 7/8;   0 before 3/8
//   g = 4x - 0.5 on [1/8, 3/8), 1 on [3/8, 5/8), 3.5 - 4x on [5/8, 7/8); 0 elsewhere
//   b = 4x + 0.5 before 1/8,    1 on [1/8, 3/8), 2.5 - 4x on [3/8, 5/8); 0 from 5/8
// then interpolates it (interp1 in float32) at linspace(0, 1, 256) and converts with convertTo(CV_8U, 255),
// which rounds half to even. Every ramp value times 255 ends in exactly .5, so the float32 rounding of
// those steps decides about 115 of the 768 bytes: they are emulated with Math.fround rather than derived
// from the formula in double precision.

const f32 = Math.fround;

function octaveJet(x: number): [number, number, number] {
  const r = x < 3 / 8 ? 0 : x < 5 / 8 ? 4 * x - 1.5 : x < 7 / 8 ? 1 : 4.5 - 4 * x;
  const g = x < 1 / 8 ? 0 : x < 3 / 8 ? 4 * x - 0.5 : x < 5 / 8 ? 1 : x < 7 / 8 ? 3.5 - 4 * x : 0;
  const b = x < 1 / 8 ? 4 * x + 0.5 : x < 3 / 8 ? 1 : x < 5 / 8 ? 2.5 - 4 * x : 0;
  return [r, g, b];
}

function roundHalfToEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff !== 0.5) return Math.round(v);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** 256 RGB entries (OpenCV stores them as BGR; pytorch-grad-cam's use_rgb=True swaps them back). */
function buildJetTable(): Uint8Array {
  const n = 256;
  const step = f32(1 / 255);
  const knots = Array.from({ length: n }, (_, i) => f32(0 + f32(i * step)));
  const base = knots.map((_, i) => octaveJet(i / 255).map(f32));
  const table = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    // interp1 at its own knots: the binary search stops with knots[low] < xi <= knots[high].
    const high = Math.max(i, 1);
    const low = high - 1;
    for (let c = 0; c < 3; c++) {
      const y0 = base[low][c];
      const dy = f32(base[high][c] - y0);
      const t = f32(f32(f32(knots[i] - knots[low]) * dy) / f32(knots[high] - knots[low]));
      const value = f32(y0 + t);
      table[i * 3 + c] = Math.min(255, Math.max(0, roundHalfToEven(f32(value * 255))));
    }
  }
  return table;
}

export const JET_RGB: Uint8Array = buildJetTable();

/** np.uint8(255 * v) for a float32 v: the product rounds to float32, then truncates toward zero (clamped here). */
function toByte(v: number): number {
  return Math.min(255, Math.max(0, Math.trunc(f32(255 * v))));
}

/** cv2.applyColorMap(np.uint8(255 * map01), COLORMAP_JET) as RGB, for a w×h map of values in [0, 1]. */
export function applyJet(map01: Float32Array, w: number, h: number): Uint8Array {
  if (map01.length !== w * h) throw new Error(`applyJet: map has ${map01.length} values, expected ${w}x${h}`);
  const rgb = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    const k = toByte(map01[p]) * 3;
    rgb.set(JET_RGB.subarray(k, k + 3), p * 3);
  }
  return rgb;
}

/**
 * A planar [channels, h, w] picture with values in [0, 1] (a guided-gradient image) as RGB bytes,
 * np.uint8(255 * x) as pytorch-grad-cam writes it; one channel is drawn grey, more than three keep the
 * first three.
 */
export function planarToRgb(picture: Float32Array, channels: number, w: number, h: number): Uint8Array {
  if (picture.length !== channels * w * h) throw new Error(`planarToRgb: ${picture.length} values, expected ${channels}x${w}x${h}`);
  const plane = w * h;
  const rgb = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = toByte(picture[Math.min(c, channels - 1) * plane + p]);
  }
  return rgb;
}

/**
 * pytorch-grad-cam's show_cam_on_image(img, mask, use_rgb=True, image_weight): jet heatmap blended with the
 * float32 HWC image in [0, 1], scaled so the brightest value is 1, then np.uint8(255 * cam). float32 throughout.
 */
export function overlay(imageRGB01: Float32Array, map01: Float32Array, w: number, h: number, imageWeight = 0.5): Uint8Array {
  if (imageRGB01.length !== w * h * 3) throw new Error(`overlay: image has ${imageRGB01.length} values, expected ${w}x${h}x3`);
  if (imageWeight < 0 || imageWeight > 1) throw new Error(`overlay: imageWeight should be in [0, 1], got ${imageWeight}`);
  let imageMax = 0;
  for (const v of imageRGB01) imageMax = Math.max(imageMax, v);
  if (imageMax > 1) throw new Error('overlay: the image should be float RGB in [0, 1]');

  const heat = applyJet(map01, w, h);
  const heatWeight = f32(1 - imageWeight);
  const weight = f32(imageWeight);
  const cam = new Float32Array(w * h * 3);
  let camMax = 0;
  for (let i = 0; i < cam.length; i++) {
    cam[i] = f32(heatWeight * f32(heat[i] / 255)) + f32(weight * imageRGB01[i]);
    camMax = Math.max(camMax, cam[i]);
  }
  return Uint8Array.from(cam, (v) => toByte(f32(v / camMax)));
}
