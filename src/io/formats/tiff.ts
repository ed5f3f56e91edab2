// TIFF: the first image of the file, 8-bit samples in strips, chunky (interleaved) layout; no compression,
// LZW, Deflate or PackBits, with or without horizontal differencing; greyscale (either polarity), RGB, RGB
// with unassociated alpha, and palette images, as Pillow reads them. Tiles, planar layout, other depths,
// premultiplied alpha and JPEG-in-TIFF are refused by name.
import { inflateSync } from 'node:zlib';
import type { DecodedPixels } from './pixels.js';

const TAG = {
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  photometric: 262,
  stripOffsets: 273,
  orientation: 274,
  samplesPerPixel: 277,
  rowsPerStrip: 278,
  stripByteCounts: 279,
  planarConfig: 284,
  predictor: 317,
  colorMap: 320,
  tileWidth: 322,
  extraSamples: 338,
  sampleFormat: 339,
} as const;

const COMPRESSION_NAMES: Record<number, string> = { 2: 'CCITT', 3: 'CCITT fax 3', 4: 'CCITT fax 4', 6: 'old-style JPEG', 7: 'JPEG' };

export function decodeTiff(bytes: Uint8Array): DecodedPixels {
  const little = bytes[0] === 0x49;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (p: number) => view.getUint16(p, little);
  const u32 = (p: number) => view.getUint32(p, little);
  if (u16(2) === 43) throw new Error('BigTIFF is not supported');
  const tags = readIfd(bytes, u32(4), little);
  const one = (tag: number, fallback?: number) => {
    const v = tags.get(tag)?.[0] ?? fallback;
    if (v === undefined) throw new Error(`missing tag ${tag}`);
    return v;
  };
  const width = one(TAG.width);
  const height = one(TAG.height);
  const samples = one(TAG.samplesPerPixel, 1);
  const bits = tags.get(TAG.bitsPerSample) ?? [1];
  const compression = one(TAG.compression, 1);
  const photometric = one(TAG.photometric);
  const predictor = one(TAG.predictor, 1);
  if (tags.has(TAG.tileWidth)) throw new Error('tiled TIFF is not supported (strips only)');
  if (one(TAG.planarConfig, 1) !== 1) throw new Error('planar TIFF is not supported (interleaved samples only)');
  if (bits.some((b) => b !== 8)) throw new Error(`${bits[0]}-bit TIFF samples are not supported (8-bit only)`);
  if (one(TAG.sampleFormat, 1) !== 1) throw new Error('TIFF sample formats other than unsigned integer are not supported');
  if (![0, 1, 2, 3].includes(photometric)) throw new Error(`TIFF photometric interpretation ${photometric} is not supported (grey, RGB, palette)`);
  const colourSamples = photometric === 2 ? 3 : 1;
  const extra = tags.get(TAG.extraSamples) ?? [];
  if (samples < colourSamples || samples > colourSamples + 1) throw new Error(`${samples} samples per pixel are not supported`);
  if (extra[0] === 1) throw new Error('TIFF with premultiplied (associated) alpha is not supported');
  if (COMPRESSION_NAMES[compression]) throw new Error(`${COMPRESSION_NAMES[compression]}-compressed TIFF is not supported`);
  if (![1, 5, 8, 32946, 32773].includes(compression)) throw new Error(`TIFF compression ${compression} is not supported`);
  if (predictor !== 1 && predictor !== 2) throw new Error(`TIFF predictor ${predictor} is not supported`);
  const rowsPerStrip = Math.min(one(TAG.rowsPerStrip, height), height);
  const offsets = tags.get(TAG.stripOffsets) ?? [];
  const counts = tags.get(TAG.stripByteCounts) ?? [];
  const rowBytes = width * samples;
  const raw = new Uint8Array(rowBytes * height);
  for (let s = 0; s * rowsPerStrip < height; s++) {
    if (offsets[s] === undefined || counts[s] === undefined || offsets[s] + counts[s] > bytes.length) throw new Error('truncated strip');
    const rows = Math.min(rowsPerStrip, height - s * rowsPerStrip);
    const strip = decompress(bytes.subarray(offsets[s], offsets[s] + counts[s]), compression, rows * rowBytes);
    if (predictor === 2) undoHorizontalDifferencing(strip, rows, width, samples);
    raw.set(strip.subarray(0, rows * rowBytes), s * rowsPerStrip * rowBytes);
  }
  const colorMap = tags.get(TAG.colorMap);
  if (photometric === 3 && !colorMap) throw new Error('palette TIFF without a colour map');
  const data = new Uint8Array(width * height * 3);
  const alpha = samples > colourSamples ? new Uint8Array(width * height) : undefined;
  for (let p = 0; p < width * height; p++) {
    const i = p * samples;
    if (photometric === 2) data.set(raw.subarray(i, i + 3), p * 3);
    else if (photometric === 3) {
      // Pillow keeps the high byte of the 16-bit colour map entries.
      const index = raw[i];
      for (let c = 0; c < 3; c++) data[p * 3 + c] = colorMap![c * 256 + index] >> 8;
    } else {
      const v = photometric === 0 ? 255 - raw[i] : raw[i];
      data[p * 3] = data[p * 3 + 1] = data[p * 3 + 2] = v;
    }
    if (alpha) alpha[p] = raw[i + colourSamples];
  }
  return { width, height, data, alpha, orientation: tags.get(TAG.orientation)?.[0] };
}

/** IFD entries as numbers (SHORT, LONG or BYTE values; offsets followed where they do not fit in 4 bytes). */
function readIfd(bytes: Uint8Array, offset: number, little: boolean): Map<number, number[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (offset + 2 > bytes.length) throw new Error('truncated directory');
  const count = view.getUint16(offset, little);
  const tags = new Map<number, number[]>();
  const sizes: Record<number, number> = { 1: 1, 3: 2, 4: 4, 16: 8 };
  for (let i = 0; i < count; i++) {
    const entry = offset + 2 + i * 12;
    if (entry + 12 > bytes.length) throw new Error('truncated directory');
    const tag = view.getUint16(entry, little);
    const type = view.getUint16(entry + 2, little);
    const n = view.getUint32(entry + 4, little);
    const size = sizes[type];
    if (!size || type === 16) continue; // rationals, strings, 64-bit values: no tag read here uses them
    const at = n * size <= 4 ? entry + 8 : view.getUint32(entry + 8, little);
    if (at + n * size > bytes.length) throw new Error('truncated tag');
    const values: number[] = [];
    for (let k = 0; k < n; k++) {
      const p = at + k * size;
      values.push(size === 1 ? bytes[p] : size === 2 ? view.getUint16(p, little) : view.getUint32(p, little));
    }
    tags.set(tag, values);
  }
  return tags;
}

function decompress(data: Uint8Array, compression: number, expected: number): Uint8Array {
  switch (compression) {
    case 1:
      return data.slice(); // a copy: the predictor is undone in place
    case 5:
      return tiffLzw(data, expected);
    case 8:
    case 32946:
      return new Uint8Array(inflateSync(data));
    default:
      return packBits(data, expected);
  }
}

function packBits(data: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let o = 0;
  for (let p = 0; p < data.length && o < expected; ) {
    const n = (data[p++] << 24) >> 24;
    if (n >= 0) {
      out.set(data.subarray(p, p + n + 1).subarray(0, expected - o), o);
      o += n + 1;
      p += n + 1;
    } else if (n !== -128) {
      out.fill(data[p++], o, Math.min(o - n + 1, expected));
      o += -n + 1;
    }
  }
  return out;
}

/** TIFF's LZW: MSB-first codes, the width growing one code early ("early change"), 256 clear, 257 end. */
function tiffLzw(data: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  const table: Uint8Array[] = Array.from({ length: 258 }, (_, i) => Uint8Array.of(i));
  let size = 9;
  let bitPos = 0;
  let o = 0;
  let previous: Uint8Array | undefined;
  const write = (s: Uint8Array) => {
    out.set(s.subarray(0, Math.max(0, expected - o)), o);
    o += s.length;
  };
  while (bitPos + size <= data.length * 8 && o < expected) {
    let code = 0;
    for (let b = 0; b < size; b++, bitPos++) code = (code << 1) | ((data[bitPos >> 3] >> (7 - (bitPos & 7))) & 1);
    if (code === 256) {
      table.length = 258;
      size = 9;
      previous = undefined;
      continue;
    }
    if (code === 257) break;
    let entry: Uint8Array;
    if (code < table.length) entry = table[code];
    else if (code === table.length && previous) {
      entry = new Uint8Array(previous.length + 1);
      entry.set(previous);
      entry[previous.length] = previous[0];
    } else throw new Error('bad LZW code');
    write(entry);
    if (previous) {
      const added = new Uint8Array(previous.length + 1);
      added.set(previous);
      added[previous.length] = entry[0];
      table.push(added);
    }
    previous = entry;
    if (table.length + 1 >= 1 << size && size < 12) size++;
  }
  return out;
}

function undoHorizontalDifferencing(strip: Uint8Array, rows: number, width: number, samples: number): void {
  for (let r = 0; r < rows; r++) {
    const row = r * width * samples;
    for (let i = samples; i < width * samples; i++) strip[row + i] = (strip[row + i] + strip[row + i - samples]) & 255;
  }
}
