// Writing 8-bit RGB PNGs (heatmaps, overlays, contact sheets).
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (rgb.length !== width * height * 3) {
    throw new Error(`encodePng: ${rgb.length} bytes is not ${width}x${height} RGB`);
  }
  const options = { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 } as const;
  const png = new PNG({ width, height, ...options });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return PNG.sync.write(png, options);
}

export function writePng(path: string, width: number, height: number, rgb: Uint8Array): void {
  writeFileSync(path, encodePng(width, height, rgb));
}
