// PNG and JPEG decoding to the pixels Pillow gives (Node: pngjs needs Node's zlib; a page decodes with
// the browser's own codecs instead).
import { PNG, type PNGWithMetadata } from 'pngjs';
import { readFile } from '../platform/index.js';
import { imageFormat, type RgbImage } from './image.js';
import { decodeJpeg } from './jpeg/decode.js';
import { UserError } from '../errors.js';

export function readImage(path: string): RgbImage {
  return decodeImage(readFile(path), path);
}

/**
 * Decodes PNG or JPEG bytes, recognised by their signature (not the file name), to the pixels Pillow's
 * Image.open(p).convert("RGB") gives: PNG alpha is dropped, not composited. `name` labels errors.
 */
export function decodeImage(bytes: Uint8Array, name = 'image buffer'): RgbImage {
  return imageFormat(bytes, name) === 'PNG' ? decodeWith('PNG', name, () => decodePng(bytes)) : decodeWith('JPEG', name, () => decodeJpeg(bytes).image);
}

function decodeWith(format: string, name: string, decode: () => RgbImage): RgbImage {
  try {
    return decode();
  } catch (err) {
    throw new UserError(`${name}: cannot decode ${format}: ${err instanceof Error ? err.message : String(err)}`);
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

