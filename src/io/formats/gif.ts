// GIF: the first frame, as Pillow's GifImagePlugin reads it for Image.open(f).convert("RGB"): the logical
// screen's size, the frame's palette indices (LZW, interlaced or not) looked up in its local or the global colour
// table; transparency is kept as alpha (for --background), the colour underneath being the palette's.
import type { DecodedPixels } from './pixels.js';

export function decodeGif(bytes: Uint8Array): DecodedPixels {
  if (bytes.length < 13) throw new Error('truncated header');
  const u16 = (p: number) => bytes[p] | (bytes[p + 1] << 8);
  const width = u16(6);
  const height = u16(8);
  const flags = bytes[10];
  let pos = 13;
  let globalTable: Uint8Array | undefined;
  if (flags & 0x80) {
    globalTable = bytes.subarray(pos, pos + 3 * (2 << (flags & 7)));
    pos += 3 * (2 << (flags & 7));
  }
  let transparent: number | undefined;
  while (pos < bytes.length) {
    const block = bytes[pos++];
    if (block === 0x21) {
      const label = bytes[pos++];
      if (label === 0xf9 && bytes[pos] >= 4 && bytes[pos + 1] & 1) transparent = bytes[pos + 4];
      pos = skipSubBlocks(bytes, pos);
    } else if (block === 0x2c) {
      const left = u16(pos);
      const top = u16(pos + 2);
      const w = u16(pos + 4);
      const h = u16(pos + 6);
      const frameFlags = bytes[pos + 8];
      pos += 9;
      let table = globalTable;
      if (frameFlags & 0x80) {
        table = bytes.subarray(pos, pos + 3 * (2 << (frameFlags & 7)));
        pos += 3 * (2 << (frameFlags & 7));
      }
      if (!table) throw new Error('no colour table');
      const minCodeSize = bytes[pos++];
      const indices = lzwDecode(readSubBlocks(bytes, pos), minCodeSize, w * h);
      const rows = frameFlags & 0x40 ? interlacedRows(h) : Array.from({ length: h }, (_, i) => i);
      // Pixels a first frame smaller than the screen leaves uncovered take the transparent index, else 0
      // (the engine's choice: no fixture has such a frame, so this is not checked against Pillow).
      const screen = new Uint8Array(width * height).fill(transparent ?? 0);
      rows.forEach((y, i) => {
        for (let x = 0; x < w; x++) {
          if (top + y < height && left + x < width) screen[(top + y) * width + left + x] = indices[i * w + x];
        }
      });
      const data = new Uint8Array(width * height * 3);
      const alpha = transparent === undefined ? undefined : new Uint8Array(width * height);
      for (let p = 0; p < width * height; p++) {
        const index = screen[p];
        if (3 * index + 2 < table.length) data.set(table.subarray(3 * index, 3 * index + 3), p * 3);
        if (alpha) alpha[p] = index === transparent ? 0 : 255;
      }
      return { width, height, data, alpha };
    } else if (block === 0x3b) break;
    else throw new Error(`unknown block 0x${block.toString(16)}`);
  }
  throw new Error('no image in the file');
}

function skipSubBlocks(bytes: Uint8Array, pos: number): number {
  while (pos < bytes.length && bytes[pos] !== 0) pos += bytes[pos] + 1;
  return pos + 1;
}

/** The concatenated data sub-blocks starting at `pos`. */
function readSubBlocks(bytes: Uint8Array, pos: number): Uint8Array {
  const parts: Uint8Array[] = [];
  while (pos < bytes.length && bytes[pos] !== 0) {
    parts.push(bytes.subarray(pos + 1, pos + 1 + bytes[pos]));
    pos += bytes[pos] + 1;
  }
  if (pos >= bytes.length) throw new Error('truncated image data');
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return data;
}

/** Rows in the order an interlaced frame stores them: every 8th from 0, every 8th from 4, every 4th from 2, odd. */
function interlacedRows(h: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]]) for (let y = start; y < h; y += step) rows.push(y);
  return rows;
}

/** GIF's variable-width LSB-first LZW; missing pixels stay 0. */
function lzwDecode(data: Uint8Array, minCodeSize: number, pixels: number): Uint8Array {
  if (minCodeSize < 2 || minCodeSize > 11) throw new Error('bad LZW code size');
  const out = new Uint8Array(pixels);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const stack = new Uint8Array(4097);
  for (let i = 0; i < clear; i++) {
    suffix[i] = i;
    first[i] = i;
  }
  let size = minCodeSize + 1;
  let next = end + 1;
  let previous = -1;
  let bitPos = 0;
  let o = 0;
  while (o < pixels) {
    if (bitPos + size > data.length * 8) break;
    let code = 0;
    for (let b = 0; b < size; b++, bitPos++) code |= ((data[bitPos >> 3] >> (bitPos & 7)) & 1) << b;
    if (code === clear) {
      size = minCodeSize + 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    let sp = 0;
    let c = code;
    if (code >= next) {
      if (previous < 0 || code > next) throw new Error('bad LZW code');
      stack[sp++] = first[previous];
      c = previous;
    }
    while (c >= clear) {
      stack[sp++] = suffix[c];
      c = prefix[c];
    }
    stack[sp++] = c;
    if (previous >= 0 && next < 4096) {
      prefix[next] = previous;
      suffix[next] = c;
      first[next] = first[previous];
      next++;
      if (next === 1 << size && size < 12) size++;
    }
    while (sp > 0 && o < pixels) out[o++] = stack[--sp];
    previous = code;
  }
  return out;
}
