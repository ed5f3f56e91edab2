// JPEG to the RGB pixels Pillow's Image.open(f).convert("RGB") gives with libjpeg-turbo: planes from parse.ts,
// chroma upsampled by jdsample.c's rules (the "fancy" triangle filter for 2:1 ratios, replication otherwise),
// colour converted with jdcolor.c's fixed-point tables, CMYK read inverted and converted as Pillow does.
import type { RgbImage } from '../image.js';
import { parseJpeg, type DecodedJpeg, type JpegPlane } from './parse.js';

export interface JpegImage {
  image: RgbImage;
  /** EXIF orientation (1-8; 1 when the file has none). */
  orientation: number;
}

export function decodeJpeg(bytes: Uint8Array): JpegImage {
  const jpeg = parseJpeg(bytes);
  const planes = jpeg.planes.map((plane) => upsample(plane, jpeg));
  return { image: { width: jpeg.width, height: jpeg.height, data: toRgb(jpeg, planes) }, orientation: jpeg.orientation };
}

/**
 * The component at full size (jdsample.c). A 2:1 ratio in x (and x and y) uses the triangle filter when the
 * component is wider than 2 samples, 1:2 in y always does; every other integral ratio replicates samples.
 * Each output sample weighs the sample it lies in by 3/4 and the neighbour on its side by 1/4, per 2:1 axis,
 * edges replicated, with jdsample.c's alternating rounding biases.
 */
function upsample(plane: JpegPlane, jpeg: DecodedJpeg): Uint8Array {
  const { width, height } = jpeg;
  const hx = jpeg.maxH / plane.h;
  const vy = jpeg.maxV / plane.v;
  if (!Number.isInteger(hx) || !Number.isInteger(vy)) throw new Error('fractional chroma sampling ratios are not supported');
  const { samples: s, stride } = plane;
  const out = new Uint8Array(width * height);
  const lastX = plane.width - 1;
  const lastY = plane.height - 1;
  const fancyX = hx === 2 && plane.width > 2;
  const fancy = (hx === 1 && vy === 2) || (fancyX && (vy === 1 || vy === 2));
  for (let y = 0; y < height; y++) {
    const i = Math.floor(y / vy);
    const near = i * stride;
    // The neighbouring row on this output row's side (rows replicated past the edges).
    const far = (vy === 2 ? Math.min(Math.max(y & 1 ? i + 1 : i - 1, 0), lastY) : i) * stride;
    for (let x = 0; x < width; x++) {
      const j = Math.floor(x / hx);
      if (!fancy) out[y * width + x] = s[near + j];
      else if (hx === 1) out[y * width + x] = (3 * s[near + j] + s[far + j] + 1 + (y & 1)) >> 2;
      else {
        const k = x & 1 ? Math.min(j + 1, lastX) : Math.max(j - 1, 0);
        if (vy === 1) out[y * width + x] = (3 * s[near + j] + s[near + k] + 1 + (x & 1)) >> 2;
        else {
          const here = 3 * s[near + j] + s[far + j];
          const side = 3 * s[near + k] + s[far + k];
          out[y * width + x] = (3 * here + side + 8 - (x & 1)) >> 4;
        }
      }
    }
  }
  return out;
}

// jdcolor.c's YCbCr -> RGB: 16-bit fixed point, FIX(x) = round(x * 2^16), arithmetic right shifts.
const SCALE_BITS = 16;
const ONE_HALF = 1 << (SCALE_BITS - 1);
const fix = (x: number) => Math.round(x * (1 << SCALE_BITS));
const CR_R = Int32Array.from({ length: 256 }, (_, i) => (fix(1.402) * (i - 128) + ONE_HALF) >> SCALE_BITS);
const CB_B = Int32Array.from({ length: 256 }, (_, i) => (fix(1.772) * (i - 128) + ONE_HALF) >> SCALE_BITS);
const CR_G = Int32Array.from({ length: 256 }, (_, i) => -fix(0.71414) * (i - 128));
const CB_G = Int32Array.from({ length: 256 }, (_, i) => -fix(0.34414) * (i - 128) + ONE_HALF);

const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

function yccToRgb(y: number, cb: number, cr: number, out: Uint8Array, o: number): void {
  out[o] = clamp8(y + CR_R[cr]);
  out[o + 1] = clamp8(y + ((CB_G[cb] + CR_G[cr]) >> SCALE_BITS));
  out[o + 2] = clamp8(y + CB_B[cb]);
}

/** Pillow's cmyk2rgb (Convert.c): each channel (255 - K) less the ink's share of it, c·(255-K)/255 rounded. */
function cmykToRgb(c: number, m: number, yellow: number, k: number, out: Uint8Array, o: number): void {
  const nk = 255 - k;
  const mulDiv255 = (a: number) => {
    const t = a * nk + 128;
    return ((t >> 8) + t) >> 8;
  };
  out[o] = clamp8(nk - mulDiv255(c));
  out[o + 1] = clamp8(nk - mulDiv255(m));
  out[o + 2] = clamp8(nk - mulDiv255(yellow));
}

function toRgb(jpeg: DecodedJpeg, planes: Uint8Array[]): Uint8Array {
  const n = jpeg.width * jpeg.height;
  const rgb = new Uint8Array(n * 3);
  const [a, b, c, d] = planes;
  const ycc = new Uint8Array(3);
  for (let p = 0; p < n; p++) {
    switch (jpeg.colourSpace) {
      case 'grey':
        rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = a[p];
        break;
      case 'rgb':
        rgb[p * 3] = a[p];
        rgb[p * 3 + 1] = b[p];
        rgb[p * 3 + 2] = c[p];
        break;
      case 'ycc':
        yccToRgb(a[p], b[p], c[p], rgb, p * 3);
        break;
      // libjpeg hands CMYK over as stored; Pillow reads it inverted (Adobe's convention, "CMYK;I").
      case 'cmyk':
        cmykToRgb(255 - a[p], 255 - b[p], 255 - c[p], 255 - d[p], rgb, p * 3);
        break;
      // YCCK: libjpeg turns YCC into CMY (255 minus the RGB it stands for) and passes K through.
      case 'ycck':
        yccToRgb(a[p], b[p], c[p], ycc, 0);
        cmykToRgb(ycc[0], ycc[1], ycc[2], 255 - d[p], rgb, p * 3);
        break;
    }
  }
  return rgb;
}
