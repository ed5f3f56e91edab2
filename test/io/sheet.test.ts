import { describe, expect, it } from 'vitest';
import { drawText, textWidth, type RgbCanvas } from '../../src/io/font.js';
import { makeContactSheet, wrapText, type SheetTile } from '../../src/io/sheet.js';

function blank(width: number, height: number): RgbCanvas {
  return { width, height, rgb: new Uint8Array(width * height * 3).fill(255) };
}

/** The canvas as rows of '#' (any non-white pixel) and '.', for comparing with drawn-by-hand glyphs. */
function asArt(canvas: RgbCanvas): string[] {
  return Array.from({ length: canvas.height }, (_, y) =>
    Array.from({ length: canvas.width }, (_, x) => (canvas.rgb[(y * canvas.width + x) * 3] === 255 ? '.' : '#')).join(''),
  );
}

function solidTile(width: number, height: number, rgb: [number, number, number], text?: Partial<SheetTile>): SheetTile {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(rgb, p * 3);
  return { rgb: data, width, height, ...text };
}

function pixel(canvas: RgbCanvas, x: number, y: number): number[] {
  return Array.from(canvas.rgb.subarray((y * canvas.width + x) * 3, (y * canvas.width + x) * 3 + 3));
}

describe('font', () => {
  it('draws glyphs as designed, with one blank column between characters', () => {
    const canvas = blank(11, 9);
    drawText(canvas, 0, 0, 'Hg');
    expect(asArt(canvas)).toEqual([
      '#...#......',
      '#...#......',
      '#...#..####',
      '#####.#...#',
      '#...#.#...#',
      '#...#.#...#',
      '#...#..####',
      '..........#',
      '.......###.',
    ]);
  });

  it('scales each pixel to a square block', () => {
    const canvas = blank(15, 27);
    drawText(canvas, 0, 0, 'I', 3);
    const art = asArt(canvas);
    expect(art[0]).toBe('...#########...');
    expect(art[3]).toBe('......###......');
    expect(art.slice(21)).toEqual(Array(6).fill('.'.repeat(15)));
  });

  it('draws characters outside printable ASCII as ?', () => {
    const a = blank(5, 9);
    const b = blank(5, 9);
    drawText(a, 0, 0, 'é');
    drawText(b, 0, 0, '?');
    expect(a.rgb).toEqual(b.rgb);
  });

  it('measures text', () => {
    expect(textWidth('')).toBe(0);
    expect(textWidth('abc')).toBe(17);
    expect(textWidth('abc', 2)).toBe(34);
  });
});

describe('wrapText', () => {
  it('wraps at word boundaries and splits words that are too long', () => {
    expect(wrapText('tabby cat (p=0.52)', 10)).toEqual(['tabby cat', '(p=0.52)']);
    expect(wrapText('abcdefghijkl xy', 5)).toEqual(['abcde', 'fghij', 'kl xy']);
    expect(wrapText('one\ntwo', 20)).toEqual(['one', 'two']);
  });
});

describe('makeContactSheet', () => {
  const red: [number, number, number] = [200, 0, 0];
  const blue: [number, number, number] = [0, 0, 200];

  it('lays tiles out on a grid with margins, centring narrower tiles in their column', () => {
    const sheet = makeContactSheet({
      margin: 4,
      rows: [{ tiles: [solidTile(10, 8, red), solidTile(10, 8, red)] }, { tiles: [solidTile(6, 5, blue)] }],
    });
    expect([sheet.width, sheet.height]).toEqual([4 + 10 + 4 + 10 + 4, 4 + 8 + 4 + 5 + 4]);
    expect(pixel(sheet, 3, 3)).toEqual([255, 255, 255]);
    expect(pixel(sheet, 4, 4)).toEqual(red);
    expect(pixel(sheet, 18 + 9, 4 + 7)).toEqual(red);
    expect(pixel(sheet, 4 + 2, 16)).toEqual(blue); // (10 - 6) / 2 = 2 pixels in
    expect(pixel(sheet, 4 + 1, 16)).toEqual([255, 255, 255]);
    expect(pixel(sheet, 20, 18)).toEqual([255, 255, 255]); // the second row has no second tile
  });

  it('draws titles above and captions below tiles, and header lines on top', () => {
    const scale = 2;
    const line = 11 * scale;
    const sheet = makeContactSheet({
      margin: 10,
      textScale: scale,
      header: ['Header'],
      rows: [{ tiles: [solidTile(100, 50, red, { title: 'cat', caption: 'p=0.9\nlayer4' })] }],
    });
    const headerHeight = line + 10;
    const tileTop = 10 + headerHeight + line;
    expect(sheet.width).toBe(10 + 100 + 10); // the header is narrower than the tile
    expect(sheet.height).toBe(10 + headerHeight + line + 50 + 2 * scale + 2 * line + 10);
    expect(pixel(sheet, 10, tileTop)).toEqual(red);

    const darkRows = (y0: number, y1: number) => {
      let count = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = 0; x < sheet.width; x++) if (pixel(sheet, x, y)[0] === 32) count++;
      }
      return count;
    };
    expect(darkRows(10, 10 + line)).toBeGreaterThan(0); // header
    expect(darkRows(10 + headerHeight, tileTop)).toBeGreaterThan(0); // title
    expect(darkRows(tileTop + 50, sheet.height - 10)).toBeGreaterThan(0); // caption
    expect(darkRows(tileTop, tileTop + 50)).toBe(0); // nothing drawn over the tile
    // The title is centred over the tile: 'cat' spans 34 pixels of a 100-pixel column.
    const titleXs: number[] = [];
    for (let y = 10 + headerHeight; y < tileTop; y++) {
      for (let x = 0; x < sheet.width; x++) if (pixel(sheet, x, y)[0] === 32) titleXs.push(x);
    }
    const left = Math.min(...titleXs) - 10;
    const right = 10 + 100 - 1 - Math.max(...titleXs);
    expect(Math.abs(left - right)).toBeLessThanOrEqual(scale);
  });

  it('widens the sheet for a header, wrapping it at 40 characters when the grid is narrow', () => {
    const tile = solidTile(10, 10, red);
    const wide = makeContactSheet({ margin: 2, textScale: 1, header: ['x'.repeat(30)], rows: [{ tiles: [tile] }] });
    expect(wide.width).toBe(2 + textWidth('x'.repeat(30)) + 2);
    const wrapped = makeContactSheet({ margin: 2, textScale: 1, header: ['y'.repeat(100)], rows: [{ tiles: [tile] }] });
    expect(wrapped.width).toBe(2 + textWidth('y'.repeat(40)) + 2);
    expect(wrapped.height).toBe(2 + 3 * 11 + 2 + 10 + 2);
  });

  it('rejects a tile whose buffer does not match its size', () => {
    expect(() => makeContactSheet({ rows: [{ tiles: [{ rgb: new Uint8Array(5), width: 2, height: 1 }] }] })).toThrow(/tile 0,0/);
  });
});
