// Image files to the pixels Pillow's Image.open(f).convert("RGB") gives, and the options where Pillow's
// convention is surprising (Node only: pngjs and the TIFF reader need Node's zlib; the page decodes JPEG
// with jpeg/ too and the rest with the browser's codecs).
import { PNG, type PNGWithMetadata } from 'pngjs';
import { readFile } from '../platform/index.js';
import { decodeError, imageFormat, type DecodeOptions, type ImageFormat, type RgbImage } from './image.js';
import { decodeJpeg } from './jpeg/decode.js';
import { decodeBmp } from './formats/bmp.js';
import { decodeGif } from './formats/gif.js';
import { decodeTiff } from './formats/tiff.js';
import { decodeWebp, loadWebpCodec } from './formats/webp.js';
import type { DecodedPixels } from './formats/pixels.js';

export function readImage(path: string, options: DecodeOptions = {}): RgbImage {
  return decodeImage(readFile(path), path, options);
}

const DECODERS: Record<ImageFormat, (bytes: Uint8Array, options: DecodeOptions) => DecodedPixels> = {
  PNG: decodePng,
  JPEG: (bytes) => {
    const { image, orientation } = decodeJpeg(bytes);
    return { ...image, orientation };
  },
  GIF: decodeGif,
  BMP: decodeBmp,
  TIFF: decodeTiff,
  WebP: decodeWebp,
};

/** Loads the codecs that WebAssembly provides (WebP); once, before decoding such files. */
export async function loadImageCodecs(): Promise<void> {
  await loadWebpCodec();
}

/**
 * Decodes image bytes, recognised by their signature (not the file name), to the pixels Pillow's
 * Image.open(p).convert("RGB") gives: alpha dropped, not composited, unless `options` say otherwise.
 * `name` labels errors.
 */
export function decodeImage(bytes: Uint8Array, name = 'image buffer', options: DecodeOptions = {}): RgbImage {
  const format = imageFormat(bytes, name);
  let pixels: DecodedPixels;
  try {
    pixels = DECODERS[format](bytes, options);
  } catch (err) {
    throw decodeError(name, format, err);
  }
  let image: RgbImage = { width: pixels.width, height: pixels.height, data: pixels.data };
  if (options.background && pixels.alpha) image = composite(image, pixels.alpha, options.background);
  if (options.exifRotate && pixels.orientation && pixels.orientation !== 1) image = orient(image, pixels.orientation);
  return image;
}

/**
 * Pillow's alpha_composite of the image over an opaque background: with 7 fraction bits, each channel
 * (src·a + bg·(255 - a))·128 + 128·128, divided by 255 as ((t >> 8) + t) >> 8, then >> 7.
 */
function composite(image: RgbImage, alpha: Uint8Array, background: readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(image.data.length);
  for (let p = 0; p < alpha.length; p++) {
    const a = alpha[p];
    for (let c = 0; c < 3; c++) {
      const t = (image.data[p * 3 + c] * a + background[c] * (255 - a)) * 128 + (0x80 << 7);
      data[p * 3 + c] = (((t >> 8) + t) >> 8) >> 7;
    }
  }
  return { ...image, data };
}

/**
 * EXIF orientation applied as PIL.ImageOps.exif_transpose: for each output pixel, the source pixel the
 * orientation's flip/rotation puts there (5-8 swap width and height).
 */
function orient(image: RgbImage, orientation: number): RgbImage {
  const { width: w, height: h } = image;
  const swap = orientation >= 5;
  const [ow, oh] = swap ? [h, w] : [w, h];
  const source: Record<number, (x: number, y: number) => [number, number]> = {
    2: (x, y) => [w - 1 - x, y],
    3: (x, y) => [w - 1 - x, h - 1 - y],
    4: (x, y) => [x, h - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, h - 1 - x],
    7: (x, y) => [w - 1 - y, h - 1 - x],
    8: (x, y) => [w - 1 - y, x],
  };
  const at = source[orientation];
  if (!at) return image;
  const data = new Uint8Array(image.data.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const [sx, sy] = at(x, y);
      data.set(image.data.subarray((sy * w + sx) * 3, (sy * w + sx) * 3 + 3), (y * ow + x) * 3);
    }
  }
  return { width: ow, height: oh, data };
}

// pngjs keeps the tRNS colour key here (not in its typings) and zeroes the pixels that match it.
type DecodedPng = PNGWithMetadata & { transColor?: number[] };

/** Any PNG colour type and bit depth; alpha (or the tRNS transparency) is returned beside the colour. */
function decodePng(bytes: Uint8Array, options: DecodeOptions): DecodedPixels {
  // skipRescale leaves samples at their own bit depth (a Uint16Array for 16-bit) so the scaling below is ours.
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true }) as DecodedPng;
  const { width, height, depth, palette, color, alpha: hasAlpha } = png;
  const samples: ArrayLike<number> = png.data;
  // Pillow opens 16-bit greyscale (colour type 0) as 32-bit integers; convert("RGB") clips them.
  const clipGrey16 = options.png16 === 'clip' && depth === 16 && !color && !hasAlpha;
  // Palette entries are already 8-bit; 1/2/4-bit grey scales by 255, 85 and 17 (exact, like Pillow).
  const to8 =
    palette || depth === 8 ? (v: number) => v : depth === 16 ? (clipGrey16 ? (v: number) => Math.min(v, 255) : (v: number) => v >> 8) : (v: number) => (v * 255) / (2 ** depth - 1);
  const data = new Uint8Array(width * height * 3);
  const alpha = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = to8(samples[p * 4 + c]);
    alpha[p] = depth === 16 ? samples[p * 4 + 3] >> 8 : palette || depth === 8 ? samples[p * 4 + 3] : samples[p * 4 + 3] === 0 ? 0 : 255;
  }
  const key = png.transColor;
  if (key && !palette) {
    // Put back the colour of the pixels pngjs blanked: the only ones with alpha 0 in an image without an alpha channel.
    const keyRgb = (key.length === 1 ? [key[0], key[0], key[0]] : key).map(to8);
    for (let p = 0; p < width * height; p++) {
      if (samples[p * 4 + 3] === 0) data.set(keyRgb, p * 3);
    }
  }
  return { width, height, data, alpha };
}
