// Image decoding (PNG, JPEG) and torchvision-equivalent preprocessing, on the CPU.
import { readFileSync } from 'node:fs';
import { PNG, type PNGWithMetadata } from 'pngjs';
import { decodeJpeg } from './jpeg.js';
import { pilResizeBilinear } from './pil-resize.js';

/** 8-bit RGB pixels, interleaved, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

export function readImage(path: string): RgbImage {
  return decodeImage(readFileSync(path), path);
}

/**
 * Decodes PNG or JPEG bytes, recognised by their signature (not the file name), to the pixels Pillow's
 * Image.open(p).convert("RGB") gives: PNG alpha is dropped, not composited. `name` labels errors.
 */
export function decodeImage(bytes: Uint8Array, name = 'image buffer'): RgbImage {
  const startsWith = (sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (startsWith(PNG_SIGNATURE)) return decodeWith('PNG', name, () => decodePng(bytes));
  if (startsWith(JPEG_SIGNATURE)) return decodeWith('JPEG', name, () => decodeJpeg(bytes));
  throw new Error(`${name}: not a PNG or JPEG image (unrecognised file signature)`);
}

function decodeWith(format: string, name: string, decode: () => RgbImage): RgbImage {
  try {
    return decode();
  } catch (err) {
    throw new Error(`${name}: cannot decode ${format}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// pngjs keeps the tRNS colour key here (not in its typings) and zeroes the pixels that match it.
type DecodedPng = PNGWithMetadata & { transColor?: number[] };

/**
 * Any PNG colour type and bit depth. Alpha is dropped, not composited, as Pillow's convert("RGB") does in
 * torchvision pipelines; 16-bit samples keep their high byte, as Pillow (and OpenCV) do.
 */
function decodePng(bytes: Uint8Array): RgbImage {
  // skipRescale leaves samples at their own bit depth (a Uint16Array for 16-bit) so the scaling below is ours.
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true }) as DecodedPng;
  const { width, height, depth, palette } = png;
  const samples: ArrayLike<number> = png.data;
  // Palette entries are already 8-bit; 1/2/4-bit grey scales by 255, 85 and 17 (exact, like Pillow).
  const to8 = palette || depth === 8 ? (v: number) => v : depth === 16 ? (v: number) => v >> 8 : (v: number) => (v * 255) / (2 ** depth - 1);
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = to8(samples[p * 4 + c]);
  }
  const key = png.transColor;
  if (key && !palette) {
    // Put back the colour of the pixels pngjs blanked: the only ones with alpha 0 in an image without an alpha channel.
    const keyRgb = (key.length === 1 ? [key[0], key[0], key[0]] : key).map(to8);
    for (let p = 0; p < width * height; p++) {
      if (samples[p * 4 + 3] === 0) data.set(keyRgb, p * 3);
    }
  }
  return { width, height, data };
}

export interface PreprocessOptions {
  /** Length of the shorter side after resizing (torchvision Resize(int)). */
  resize?: number;
  /** Centre crop size: [height, width], or one number for a square. */
  crop?: number | readonly [number, number];
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
/** torchvision's ImageNet evaluation crop. */
export const DEFAULT_CROP = 224;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** torchvision's Resize(resize) then CenterCrop(crop) on a PIL image, with the same pixels as the result. */
export function resizeAndCrop(image: RgbImage, options: Pick<PreprocessOptions, 'resize' | 'crop'> = {}): RgbImage {
  const resize = options.resize ?? 256;
  const crop = options.crop ?? DEFAULT_CROP;
  const [cropH, cropW] = typeof crop === 'number' ? [crop, crop] : crop;
  if (![resize, cropH, cropW].every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error(`preprocess: resize (${resize}) and crop (${crop}) must be positive integers`);
  }
  const [outW, outH] = shorterSideSize(image.width, image.height, resize);
  const resized = pilResizeBilinear(image.data, image.width, image.height, outW, outH, 3);
  const top = cropOffset(outH, cropH);
  const left = cropOffset(outW, cropW);
  // Pixels outside the resized image are the zeros torchvision pads with when the crop is larger.
  const data = new Uint8Array(cropW * cropH * 3);
  for (let y = 0; y < cropH; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= outH) continue;
    for (let x = 0; x < cropW; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= outW) continue;
      data.set(resized.subarray((sy * outW + sx) * 3, (sy * outW + sx) * 3 + 3), (y * cropW + x) * 3);
    }
  }
  return { width: cropW, height: cropH, data };
}

/** torchvision's _compute_resized_output_size: shorter side = size, longer side = int(size * long / short). */
function shorterSideSize(width: number, height: number, size: number): [number, number] {
  const long = Math.trunc((size * Math.max(width, height)) / Math.min(width, height));
  return width <= height ? [size, long] : [long, size];
}

/** torchvision's center_crop offset; negative where it pads because the crop is larger than the image. */
function cropOffset(size: number, crop: number): number {
  if (crop > size) return -Math.floor((crop - size) / 2);
  const half = (size - crop) / 2;
  // int(round(half)): Python rounds .5 to the even neighbour.
  return Number.isInteger(half) ? half : 2 * Math.round(half / 2);
}

/** Resize, crop, ToTensor, Normalize: a float32 CHW tensor, bit-identical to torchvision's float32 arithmetic. */
export function preprocess(image: RgbImage, options: PreprocessOptions = {}): Float32Array {
  const { width, height, data } = resizeAndCrop(image, options);
  const mean = (options.mean ?? IMAGENET_MEAN).map(Math.fround);
  const std = (options.std ?? IMAGENET_STD).map(Math.fround);
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) {
      // Each step rounds to float32, as torch's div(255), sub_(mean) and div_(std) do.
      out[c * plane + p] = Math.fround(Math.fround(data[p * 3 + c] / 255) - mean[c]) / std[c];
    }
  }
  return out;
}

/** RGB bytes as float32 HWC in [0, 1], the image input of show_cam_on_image. */
export function rgbToFloat01(image: RgbImage): Float32Array {
  return Float32Array.from(image.data, (v) => v / 255);
}
