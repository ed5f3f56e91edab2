// Plain-text tables for the CLI's reports: columns padded to their widest cell, the chosen columns
// left-aligned (names), the others right-aligned (numbers).

export function textTable(header: string[], rows: string[][], leftAligned: (column: number) => boolean = (c) => c === 0): string {
  const cells = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((cell, c) => (leftAligned(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}
