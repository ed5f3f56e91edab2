// What every decoder returns: 8-bit RGB, and where the file has them, its alpha and EXIF orientation.
import type { RgbImage } from '../image.js';

export interface DecodedPixels extends RgbImage {
  /** 8-bit alpha per pixel, where the file stores transparency (for --background). */
  alpha?: Uint8Array;
  /** EXIF orientation 1-8 (for --exif-rotate). */
  orientation?: number;
}
