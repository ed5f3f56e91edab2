// A built-in 5x9 bitmap font for printable ASCII (32-126), drawn at integer scales, so captions need no font
// dependency. Capitals and digits are 7 rows tall; rows 7-8 hold descenders (g, j, p, q, y, comma, underscore).
// Characters outside the range are drawn as '?'.

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 9;
/** Horizontal advance and line height, in unscaled pixels (one column and two rows of spacing). */
export const CHAR_ADVANCE = GLYPH_WIDTH + 1;
export const LINE_HEIGHT = GLYPH_HEIGHT + 2;

// Two hex digits per row, 9 rows per glyph from the top, glyphs in ASCII order from ' '.
// Bit 4 of a row is its leftmost pixel.
const GLYPHS =
  '0000000000000000000404040404000400000a0a0a0000000000000a0a1f0a1f0a0a0000040f140e051e040000' +
  '1819020408130300000c12140815120d0000040408000000000000020408080804020000080402020204080000' +
  '0004150e15040000000004041f040400000000000000000c0408000000001f000000000000000000000c0c0000' +
  '0001020408100000000e11131519110e0000040c040404040e00000e11010204081f00001f02040201110e0000' +
  '02060a121f020200001f101e0101110e00000608101e11110e00001f01020408080800000e11110e11110e0000' +
  '0e11110f01020c0000000c0c000c0c000000000c0c000c0408000002040810080402000000001f001f00000000' +
  '0804020102040800000e11010204000400000e11010d15150e00000e11111f11111100001e11111e11111e0000' +
  '0e11101010110e00001c12111111121c00001f10101e10101f00001f10101e10101000000e11101711110f0000' +
  '1111111f11111100000e04040404040e00000702020202120c00001112141814121100001010101010101f0000' +
  '111b151511111100001111191513111100000e11111111110e00001e11111e10101000000e11111115120d0000' +
  '1e11111e14121100000f10100e01011e00001f04040404040400001111111111110e000011111111110a040000' +
  '1111111515150a000011110a040a111100001111110a04040400001f01020408101f00000e08080808080e0000' +
  '0010080402010000000e02020202020e0000040a11000000000000000000000000001f00080402000000000000' +
  '00000e010f110f00001010161911111e000000000e1010110e000001010d1311110f000000000e111f100e0000' +
  '0609081c080808000000000f1111110f010e10101619111111000004000c0404040e000002000602020202120c' +
  '1010121418141200000c04040404040e000000001a15151515000000001619111111000000000e1111110e0000' +
  '00001e1111111e101000000f1111110f010100001619101010000000000f100e011e000008081c080809060000' +
  '0000111111130d000000001111110a0400000000111115150a00000000110a040a1100000000111111110f010e' +
  '00001f0204081f0000020404080404020000040404040404040000080404020404080000000008150200000000';

const FIRST = 32;
const LAST = 126;

function glyphRow(code: number, row: number): number {
  const index = (code >= FIRST && code <= LAST ? code : 63) - FIRST;
  const at = (index * GLYPH_HEIGHT + row) * 2;
  return parseInt(GLYPHS.slice(at, at + 2), 16);
}

/** Width in pixels of one line of text at the given scale (no trailing spacing). */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * CHAR_ADVANCE - 1) * scale;
}

export interface RgbCanvas {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** Draws one line of text with its top-left corner at (x, y); pixels outside the canvas are skipped. */
export function drawText(canvas: RgbCanvas, x: number, y: number, text: string, scale = 1, color: readonly [number, number, number] = [0, 0, 0]): void {
  for (let i = 0; i < text.length; i++) {
    const left = x + i * CHAR_ADVANCE * scale;
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      const bits = glyphRow(text.charCodeAt(i), row);
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (bits & (1 << (GLYPH_WIDTH - 1 - col))) fillRect(canvas, left + col * scale, y + row * scale, scale, scale, color);
      }
    }
  }
}

export function fillRect(canvas: RgbCanvas, x: number, y: number, w: number, h: number, color: readonly [number, number, number]): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(canvas.width, x + w);
  const y1 = Math.min(canvas.height, y + h);
  for (let py = y0; py < y1; py++) {
    for (let px = x0; px < x1; px++) canvas.rgb.set(color, (py * canvas.width + px) * 3);
  }
}
