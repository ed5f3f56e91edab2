// Contact sheets: a grid of RGB tiles on white, with text above and below each tile and header lines on top.
import { CHAR_ADVANCE, LINE_HEIGHT, drawText, fillRect, textWidth, type RgbCanvas } from './font.js';

export interface SheetTile {
  rgb: Uint8Array;
  width: number;
  height: number;
  /** Text above the tile. '\n' starts a new line; long lines wrap at the column width. */
  title?: string;
  /** Text below the tile, laid out like the title. */
  caption?: string;
}

export interface ContactSheetSpec {
  rows: { tiles: SheetTile[] }[];
  /** Lines drawn across the top of the sheet. */
  header?: string[];
  /** Pixels around the grid and between tiles (default 12). */
  margin?: number;
  /** Integer magnification of the 5x9 font (default 2). */
  textScale?: number;
}

const TEXT_COLOR = [32, 32, 32] as const;
const WHITE = [255, 255, 255] as const;
/** Headers wrap at no fewer characters than this, however narrow the grid. */
const MIN_HEADER_CHARS = 40;

/** Greedy word wrap to `maxChars` per line; words longer than a line are split. */
export function wrapText(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (let word of paragraph.split(' ').filter((w) => w !== '')) {
      while (word.length > maxChars) {
        if (line) lines.push(line);
        lines.push(word.slice(0, maxChars));
        word = word.slice(maxChars);
        line = '';
      }
      if (!word) continue;
      if (!line) line = word;
      else if (line.length + 1 + word.length <= maxChars) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

export function makeContactSheet(spec: ContactSheetSpec): RgbCanvas {
  const margin = spec.margin ?? 12;
  const scale = spec.textScale ?? 2;
  const lineHeight = LINE_HEIGHT * scale;
  const textGap = 2 * scale; // between a caption and the tile above it
  const charsIn = (pixels: number) => Math.max(1, Math.floor((pixels + scale) / (CHAR_ADVANCE * scale)));

  for (const [r, row] of spec.rows.entries()) {
    for (const [c, t] of row.tiles.entries()) {
      if (t.rgb.length !== t.width * t.height * 3) throw new Error(`contact sheet: tile ${r},${c} is not ${t.width}x${t.height} RGB`);
    }
  }
  const columns = Math.max(0, ...spec.rows.map((row) => row.tiles.length));
  const columnWidths = Array.from({ length: columns }, (_, c) => Math.max(1, ...spec.rows.map((row) => row.tiles[c]?.width ?? 0)));
  const gridWidth = columnWidths.reduce((a, b) => a + b, 0) + margin * Math.max(0, columns - 1);

  const headerChars = Math.max(charsIn(gridWidth), MIN_HEADER_CHARS);
  const header = (spec.header ?? []).flatMap((line) => wrapText(line, headerChars));
  const contentWidth = Math.max(gridWidth, ...header.map((line) => textWidth(line, scale)));

  // Lay out every row: wrapped text per tile, then the row's height from its tallest parts.
  const rows = spec.rows.map(({ tiles }) => {
    const cells = tiles.map((tile, c) => ({
      tile,
      title: tile.title === undefined ? [] : wrapText(tile.title, charsIn(columnWidths[c])),
      caption: tile.caption === undefined ? [] : wrapText(tile.caption, charsIn(columnWidths[c])),
    }));
    const titleHeight = Math.max(0, ...cells.map((cell) => cell.title.length)) * lineHeight;
    const tileHeight = Math.max(0, ...tiles.map((t) => t.height));
    const captionLines = Math.max(0, ...cells.map((cell) => cell.caption.length));
    const captionHeight = captionLines > 0 ? textGap + captionLines * lineHeight : 0;
    return { cells, titleHeight, tileHeight, height: titleHeight + tileHeight + captionHeight };
  });

  const headerHeight = header.length > 0 ? header.length * lineHeight + margin : 0;
  const gridHeight = rows.reduce((sum, row) => sum + row.height, 0) + margin * Math.max(0, rows.length - 1);
  const width = contentWidth + 2 * margin;
  const height = headerHeight + gridHeight + 2 * margin;
  const canvas: RgbCanvas = { width, height, rgb: new Uint8Array(width * height * 3) };
  fillRect(canvas, 0, 0, width, height, WHITE);

  header.forEach((line, i) => drawText(canvas, margin, margin + i * lineHeight, line, scale, TEXT_COLOR));

  let top = margin + headerHeight;
  for (const row of rows) {
    let left = margin;
    row.cells.forEach(({ tile, title, caption }, c) => {
      const center = left + columnWidths[c] / 2;
      const drawCentered = (line: string, y: number) =>
        drawText(canvas, Math.round(center - textWidth(line, scale) / 2), y, line, scale, TEXT_COLOR);
      // Titles sit just above the tiles; captions start on one line across the row.
      const titleTop = top + row.titleHeight - title.length * lineHeight;
      title.forEach((line, i) => drawCentered(line, titleTop + i * lineHeight));
      blit(canvas, tile, Math.round(center - tile.width / 2), top + row.titleHeight);
      const captionTop = top + row.titleHeight + row.tileHeight + textGap;
      caption.forEach((line, i) => drawCentered(line, captionTop + i * lineHeight));
      left += columnWidths[c] + margin;
    });
    top += row.height + margin;
  }
  return canvas;
}

function blit(canvas: RgbCanvas, tile: SheetTile, x: number, y: number): void {
  for (let row = 0; row < tile.height; row++) {
    const src = tile.rgb.subarray(row * tile.width * 3, (row + 1) * tile.width * 3);
    canvas.rgb.set(src, ((y + row) * canvas.width + x) * 3);
  }
}
