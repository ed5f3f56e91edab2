// The model input of a CLI command: a float32 NCHW .npy array, or images preprocessed as for ImageNet
// (resize the shorter side, centre crop, mean/std; every step overridable by flags).
import { basename, extname } from 'node:path';
import { UserError } from '../errors.js';
import { readImage } from '../io/decode.js';
import { type DecodeOptions, DEFAULT_CROP, IMAGENET_MEAN, IMAGENET_STD, preprocess, type PreprocessOptions, resizeAndCrop, type RgbImage } from '../io/image.js';
import { readNpy } from '../io/npy.js';
import type { Tensor } from '../runtime/model.js';
import { floatTriple, intList, positiveInt, type Options } from './args.js';

export const INPUT_OPTIONS: Options = {
  input: { type: 'string' },
  image: { type: 'string', multiple: true },
  resize: { type: 'string' },
  crop: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  png16: { type: 'string' },
  'exif-rotate': { type: 'boolean' },
  background: { type: 'string' },
};

export const INPUT_HELP = `  --input X.npy        float32 NumPy array of the model input's rank, batch first (NCHW for images)
  --image FILE...      PNG, JPEG, WebP, GIF (first frame), BMP or TIFF images (repeat the flag or list several
                       files), decoded to the pixels Pillow's Image.open(f).convert("RGB") gives, then:
  --resize N           shorter side after resizing (default 256)
  --crop H[,W]         centre crop (default 224)
  --mean R,G,B         normalization mean (default ${IMAGENET_MEAN.join(',')})
  --std R,G,B          normalization std (default ${IMAGENET_STD.join(',')})
  --png16 scale|clip   16-bit PNG to 8 bits: scale keeps the high byte (default); clip is Pillow's
                       (16-bit greyscale clipped at 255, 16-bit colour's high byte)
  --exif-rotate        apply JPEG/TIFF EXIF orientation (default: ignored, as Image.open does)
  --background R,G,B   composite transparent pixels over this colour, 0-255 (default: alpha dropped)`;

export interface ModelInput {
  tensor: Tensor;
  /** One name per image (file stem, or input-<n> for arrays). */
  names: string[];
  /** The resized and cropped RGB images, for overlays (image inputs only). */
  images?: RgbImage[];
}

export interface InputValues {
  input?: string;
  image?: string[];
  resize?: string;
  crop?: string;
  mean?: string;
  std?: string;
  png16?: string;
  'exif-rotate'?: boolean;
  background?: string;
}

export function readModelInput(values: InputValues, positionals: string[] = []): ModelInput {
  const images = [...(values.image ?? []), ...(values.image ? positionals : [])];
  if (values.input && images.length > 0) throw new UserError('give either --input or --image, not both');
  if (values.input) return readArray(values.input);
  if (images.length > 0) return readImages(images, values);
  throw new UserError('an input is required: --input X.npy or --image FILE...');
}

function readArray(path: string): ModelInput {
  let array;
  try {
    array = readNpy(path);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  if (array.dtype !== 'float32') throw new UserError(`${path}: the input must be float32, not ${array.dtype}`);
  // Any rank the model takes ([N, C, L], [N, C, H, W], [N, C, D, H, W], tokens...): the model checks it.
  if (array.shape.length < 2) throw new UserError(`${path}: the input must have a batch axis and at least one more, got shape [${array.shape}]`);
  const names = Array.from({ length: array.shape[0] }, (_, n) => `${basename(path, extname(path))}-${n}`);
  return { tensor: { shape: array.shape, data: array.data as Float32Array }, names };
}

/** The decoding flags (--png16, --exif-rotate, --background), checked. */
function decodeOptions(values: InputValues): DecodeOptions {
  const png16 = values.png16;
  if (png16 !== undefined && png16 !== 'scale' && png16 !== 'clip') throw new UserError(`--png16 takes scale or clip, not "${png16}"`);
  const background = intList(values.background, '--background');
  if (background && (background.length !== 3 || background.some((v) => v < 0 || v > 255))) throw new UserError('--background takes three integers 0-255: R,G,B');
  return { png16, exifRotate: values['exif-rotate'] || undefined, background: background && [background[0], background[1], background[2]] };
}

/** The preprocessing flags (--resize, --crop, --mean, --std and the decoding ones), checked. */
export function imageOptions(values: InputValues): PreprocessOptions {
  const crop = intList(values.crop, '--crop');
  if (crop && (crop.length > 2 || crop.some((c) => c <= 0))) throw new UserError('--crop takes one or two positive integers');
  return {
    resize: positiveInt(values.resize, '--resize'),
    crop: crop ? (crop.length === 1 ? crop[0] : ([crop[0], crop[1]] as [number, number])) : undefined,
    mean: floatTriple(values.mean, '--mean'),
    std: floatTriple(values.std, '--std'),
    decode: decodeOptions(values),
  };
}

/** The [height, width] every preprocessed image has. */
export function cropSize(options: PreprocessOptions): [number, number] {
  const crop = options.crop ?? DEFAULT_CROP;
  return typeof crop === 'number' ? [crop, crop] : [crop[0], crop[1]];
}

function readImages(paths: string[], values: InputValues): ModelInput {
  const options = imageOptions(values);
  const tensors: Float32Array[] = [];
  const cropped: RgbImage[] = [];
  for (const path of paths) {
    let image: RgbImage;
    try {
      image = readImage(path, options.decode);
    } catch (e) {
      throw new UserError((e as Error).message.replace(/^ENOENT.*/, `${path}: no such file`));
    }
    tensors.push(preprocess(image, options));
    cropped.push(resizeAndCrop(image, options));
  }
  const { width, height } = cropped[0];
  const data = new Float32Array(tensors.length * tensors[0].length);
  tensors.forEach((t, i) => data.set(t, i * t.length));
  const names = uniqueNames(paths.map((p) => basename(p, extname(p))));
  return { tensor: { shape: [paths.length, 3, height, width], data }, names, images: cropped };
}

function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    return count === 0 ? name : `${name}-${count}`;
  });
}
