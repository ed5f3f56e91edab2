// torchvision-equivalent preprocessing of 8-bit RGB images, on the CPU (decoding: decode.ts).
import { UserError } from '../errors.js';
import { pilResizeBilinear } from './pil-resize.js';

/** 8-bit RGB pixels, interleaved, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The file kinds the engine reads, by their signatures (not the file name). */
const SIGNATURES = {
  PNG: [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  JPEG: [[0xff, 0xd8, 0xff]],
  GIF: [[0x47, 0x49, 0x46, 0x38, 0x37, 0x61], [0x47, 0x49, 0x46, 0x38, 0x39, 0x61]], // GIF87a, GIF89a
  BMP: [[0x42, 0x4d]],
  TIFF: [[0x49, 0x49, 0x2a, 0x00], [0x4d, 0x4d, 0x00, 0x2a], [0x49, 0x49, 0x2b, 0x00], [0x4d, 0x4d, 0x00, 0x2b]],
} as const;

const isWebp = (bytes: Uint8Array) => String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP';

export type ImageFormat = keyof typeof SIGNATURES | 'WebP';

/** The file name extensions a folder run picks up (decoding still goes by signature). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff']);

/** The formats imageFormat recognises, as its error names them. */
export const IMAGE_FORMATS = 'PNG, JPEG, WebP, GIF, BMP or TIFF';

/** The image format by its signature (not the file name), or an error naming `name`. */
export function imageFormat(bytes: Uint8Array, name = 'image buffer'): ImageFormat {
  const startsWith = (sig: readonly number[]) => sig.every((b, i) => bytes[i] === b);
  for (const [format, signatures] of Object.entries(SIGNATURES)) {
    if (signatures.some(startsWith)) return format as ImageFormat;
  }
  if (isWebp(bytes)) return 'WebP';
  throw new UserError(`${name}: not a ${IMAGE_FORMATS} image (unrecognised file signature)`);
}

/** The one-line error for a file whose decoder failed, naming the file and the format. */
export function decodeError(name: string, format: ImageFormat, err: unknown): UserError {
  return new UserError(`${name}: cannot decode ${format}: ${err instanceof Error ? err.message : String(err)}`);
}

/** How a file's pixels are read where Pillow's convention is surprising (src/io/decode.ts applies them). */
export interface DecodeOptions {
  /**
   * 16-bit PNG samples to 8 bits: 'scale' (default) keeps the high byte, v >> 8, for every colour type;
   * 'clip' is Pillow's: 16-bit greyscale opens as 32-bit integers that convert("RGB") clips at 255, while
   * 16-bit RGB(A) and grey-alpha keep their high byte.
   */
  png16?: 'scale' | 'clip';
  /** Apply the EXIF orientation of JPEG and TIFF files (PIL.ImageOps.exif_transpose); off by default, as Image.open. */
  exifRotate?: boolean;
  /** Composite transparent pixels over this colour (Image.alpha_composite) instead of dropping alpha. */
  background?: readonly [number, number, number];
}

export interface PreprocessOptions {
  /** Decoding options for files read with these settings (preprocess itself takes pixels). */
  decode?: DecodeOptions;
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
