// Windows BMP: uncompressed 1/4/8-bit palette and 24/32-bit direct colour (BI_RGB, or BI_BITFIELDS with 8-bit
// fields), rows bottom-up or top-down, as Pillow's BmpImagePlugin reads them. RLE-compressed files and 16-bit
// ones (whose 5- and 6-bit fields Pillow scales its own way) are refused rather than approximated.
import type { DecodedPixels } from './pixels.js';

export function decodeBmp(bytes: Uint8Array): DecodedPixels {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 26) throw new Error('truncated header');
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  let width: number;
  let height: number;
  let bits: number;
  let compression = 0;
  let paletteSize = 0;
  if (headerSize === 12) {
    width = view.getUint16(18, true);
    height = view.getInt16(20, true);
    bits = view.getUint16(24, true);
  } else {
    if (headerSize < 40 || bytes.length < 14 + 40) throw new Error('truncated header');
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bits = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    paletteSize = view.getUint32(46, true);
  }
  if (compression === 1 || compression === 2) throw new Error('RLE-compressed BMP is not supported (uncompressed only)');
  if (compression !== 0 && compression !== 3) throw new Error(`BMP compression ${compression} is not supported`);
  const topDown = height < 0;
  height = Math.abs(height);
  if (width <= 0 || height === 0) throw new Error('bad image size');
  // Channel masks: BI_BITFIELDS stores them after the 40-byte header (or inside a V4/V5 header).
  let masks = [0xff0000, 0x00ff00, 0x0000ff];
  if (compression === 3) masks = [0, 1, 2].map((i) => view.getUint32(14 + 40 + 4 * i, true));
  const entrySize = headerSize === 12 ? 3 : 4;
  const palette = bits <= 8 ? readPalette(bytes, 14 + headerSize + (compression === 3 && headerSize === 40 ? 12 : 0), paletteSize || 1 << bits, entrySize) : undefined;
  if (![1, 4, 8, 24, 32].includes(bits)) throw new Error(`${bits}-bit BMP is not supported`);
  const rowBytes = Math.ceil((width * bits) / 32) * 4;
  if (dataOffset + rowBytes * height > bytes.length) throw new Error('truncated pixel data');
  const data = new Uint8Array(width * height * 3);
  const channel = masks.map(maskShape);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (palette) {
        const index = bits === 8 ? bytes[row + x] : (bytes[row + ((x * bits) >> 3)] >> (8 - bits - ((x * bits) & 7))) & ((1 << bits) - 1);
        data.set(palette.subarray(index * 3, index * 3 + 3), o);
      } else if (bits === 24 || (bits === 32 && compression === 0)) {
        const p = row + x * (bits >> 3);
        data[o] = bytes[p + 2];
        data[o + 1] = bytes[p + 1];
        data[o + 2] = bytes[p];
      } else {
        const value = view.getUint32(row + 4 * x, true);
        for (let c = 0; c < 3; c++) data[o + c] = channel[c](value);
      }
    }
  }
  return { width, height, data };
}

/** Palette entries as RGB triples (stored BGR or BGRX); indices past the palette read black. */
function readPalette(bytes: Uint8Array, offset: number, count: number, entrySize: number): Uint8Array {
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < Math.min(count, 256); i++) {
    const p = offset + i * entrySize;
    palette[i * 3] = bytes[p + 2];
    palette[i * 3 + 1] = bytes[p + 1];
    palette[i * 3 + 2] = bytes[p];
  }
  return palette;
}

/** A mask's 8-bit field; other widths are refused. */
function maskShape(mask: number): (value: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  if (mask >>> shift !== 255) throw new Error('BMP colour masks other than 8 bits a channel are not supported');
  return (v) => (v >>> shift) & 255;
}
