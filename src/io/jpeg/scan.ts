// Entropy decoding of Huffman-coded JPEG scans into quantized DCT coefficients: sequential scans and the four
// kinds of progressive scan (DC first/refine, AC first/refine), with restart intervals. The rules are those of
// ITU T.81 Annex G as libjpeg's jdhuff.c and jdphuff.c apply them, including what they do on damaged data
// (missing bits read as zeros), so a file decodes to the coefficients Pillow's libjpeg-turbo sees.

/** Zig-zag position k -> natural (row-major) index within the 8x8 block. */
export const NATURAL_ORDER = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37,
  44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

const LOOKAHEAD = 9;

/** A Huffman table: short codes through a lookahead table, longer ones through T.81's MAXCODE/VALPTR. */
export interface HuffmanTable {
  /** (code length << 8) | symbol for each LOOKAHEAD-bit prefix; 0 where the code is longer. */
  lookup: Uint16Array;
  maxCode: Int32Array;
  valueOffset: Int32Array;
  values: Uint8Array;
}

export function buildHuffmanTable(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const lookup = new Uint16Array(1 << LOOKAHEAD);
  const maxCode = new Int32Array(18).fill(-1);
  const valueOffset = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    const n = counts[length - 1];
    valueOffset[length] = k - code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (length <= LOOKAHEAD) {
        const shift = LOOKAHEAD - length;
        for (let fill = 0; fill < 1 << shift; fill++) lookup[(code << shift) | fill] = (length << 8) | values[k];
      }
    }
    if (n > 0) maxCode[length] = code - 1;
    if (code > 1 << length) throw new Error('bad Huffman table');
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff; // ends the search on a bad code (libjpeg then returns symbol 0)
  return { lookup, maxCode, valueOffset, values };
}

/** Reads bits MSB first, removing 0xFF00 stuffing; at a marker it stops and feeds zeros, as libjpeg does. */
export class BitReader {
  private buffer = 0;
  private count = 0;
  /** Zero bits fed in place of data since a marker was met (they sit at the buffer's low end). */
  private padding = 0;
  private markerHit = false;
  /** True once the data ran out (not at a marker): a truncated file. */
  dataEnded = false;

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      if (!this.markerHit && this.pos < this.data.length) {
        byte = this.data[this.pos];
        if (byte === 0xff) {
          let next = this.data[this.pos + 1];
          while (next === 0xff) next = this.data[++this.pos + 1]; // fill bytes before a marker
          if (next === 0) this.pos += 2;
          else {
            this.markerHit = true;
            byte = 0;
          }
        } else this.pos++;
      } else {
        this.markerHit = true;
        if (this.pos >= this.data.length) this.dataEnded = true;
      }
      if (this.markerHit) this.padding += 8;
      this.buffer = ((this.buffer << 8) | byte) >>> 0;
      this.count += 8;
    }
  }

  /** Whether decoding has eaten into the zeros after a marker: libjpeg then leaves the rest of the interval zero. */
  get exhausted(): boolean {
    return this.count < this.padding;
  }

  bits(n: number): number {
    if (n === 0) return 0;
    if (this.count < n) this.fill();
    this.count -= n;
    return (this.buffer >>> this.count) & ((1 << n) - 1);
  }

  bit(): number {
    return this.bits(1);
  }

  /** The n-bit two's-complement-style magnitude category value of T.81 F.2.2.1 (EXTEND). */
  receiveExtend(n: number): number {
    if (n === 0) return 0;
    const v = this.bits(n);
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }

  decode(table: HuffmanTable): number {
    if (this.count < 17) this.fill(); // room for the longest code plus the bad-code sentinel
    const peek = (this.buffer >>> (this.count - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1);
    const hit = table.lookup[peek];
    if (hit !== 0) {
      this.count -= hit >> 8;
      return hit & 0xff;
    }
    let length = LOOKAHEAD + 1;
    let code = (this.buffer >>> (this.count - length)) & ((1 << length) - 1);
    while (code > table.maxCode[length]) {
      length++;
      code = (this.buffer >>> (this.count - length)) & ((1 << length) - 1);
    }
    this.count -= length;
    if (length > 16) return 0; // a code no table holds: damaged data
    return table.values[table.valueOffset[length] + code];
  }

  /** Discards the bits left before a restart marker and steps over the marker; false if it is not there. */
  restart(): boolean {
    this.buffer = 0;
    this.count = 0;
    this.padding = 0;
    this.markerHit = false;
    let p = this.pos;
    while (p < this.data.length && this.data[p] !== 0xff) p++; // libjpeg skips stray bytes too, with a warning
    while (p + 1 < this.data.length && this.data[p + 1] === 0xff) p++;
    const marker = this.data[p + 1];
    if (p + 1 < this.data.length && marker >= 0xd0 && marker <= 0xd7) {
      this.pos = p + 2;
      return true;
    }
    this.pos = p;
    return false;
  }
}

/** A frame component as the scans see it: its coefficients, block layout and current scan state. */
export interface ScanComponent {
  h: number;
  v: number;
  /** Blocks per row and column of the coefficient store (padded to whole MCUs). */
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Blocks holding image data: the extent of a single-component scan. */
  usedBlocksPerLine: number;
  usedBlocksPerColumn: number;
  coefficients: Int16Array;
  dcTable?: HuffmanTable;
  acTable?: HuffmanTable;
  dcPrediction: number;
}

export interface Scan {
  components: ScanComponent[];
  mcusPerLine: number;
  mcusPerColumn: number;
  progressive: boolean;
  spectralStart: number;
  spectralEnd: number;
  /** Successive approximation: the previous scan's low bit (0 on a first scan) and this scan's. */
  approxHigh: number;
  approxLow: number;
  restartInterval: number;
}

type BlockDecoder = (reader: BitReader, component: ScanComponent, offset: number) => void;

/** The end-of-band run of progressive AC scans, which spans blocks until a restart. */
interface RunState {
  eobRun: number;
}

/** Decodes one scan starting at `pos`; returns the position just past its entropy-coded data. */
export function decodeScan(data: Uint8Array, pos: number, scan: Scan): number {
  const reader = new BitReader(data, pos);
  const state: RunState = { eobRun: 0 };
  const decodeBlock = blockDecoder(scan, state);
  const single = scan.components.length === 1;
  const first = scan.components[0];
  const mcusPerLine = single ? first.usedBlocksPerLine : scan.mcusPerLine;
  const total = single ? first.usedBlocksPerLine * first.usedBlocksPerColumn : scan.mcusPerLine * scan.mcusPerColumn;
  for (const c of scan.components) c.dcPrediction = 0;
  for (let mcu = 0; mcu < total; mcu++) {
    if (scan.restartInterval > 0 && mcu > 0 && mcu % scan.restartInterval === 0) {
      reader.restart();
      state.eobRun = 0;
      for (const c of scan.components) c.dcPrediction = 0;
    }
    if (reader.exhausted) continue; // jdhuff.c: after hitting a marker, the interval's remaining blocks stay zero
    const row = Math.floor(mcu / mcusPerLine);
    const col = mcu % mcusPerLine;
    if (single) {
      decodeBlock(reader, first, (row * first.blocksPerLine + col) * 64);
      continue;
    }
    for (const c of scan.components) {
      for (let by = 0; by < c.v; by++) {
        for (let bx = 0; bx < c.h; bx++) {
          decodeBlock(reader, c, ((row * c.v + by) * c.blocksPerLine + col * c.h + bx) * 64);
        }
      }
    }
  }
  if (reader.dataEnded && reader.exhausted) throw new Error('premature end of data (truncated file)');
  return endOfScan(data, reader.pos);
}

/** Past any bytes left in the scan (libjpeg skips them with a warning) to the next marker that is not RSTn. */
function endOfScan(data: Uint8Array, pos: number): number {
  let p = pos;
  for (;;) {
    while (p < data.length && data[p] !== 0xff) p++;
    if (p + 1 >= data.length) return data.length;
    const marker = data[p + 1];
    if (marker === 0 || marker === 0xff || (marker >= 0xd0 && marker <= 0xd7)) p++;
    else return p;
  }
}

function blockDecoder(scan: Scan, state: RunState): BlockDecoder {
  const { spectralStart: ss, spectralEnd: se, approxLow: al } = scan;
  if (!scan.progressive) return decodeSequential;
  const refine = scan.approxHigh !== 0;
  if (ss === 0) return refine ? (r, c, o) => decodeDcRefine(r, c, o, al) : (r, c, o) => decodeDcFirst(r, c, o, al);
  return refine ? (r, c, o) => decodeAcRefine(r, c, o, ss, se, al, state) : (r, c, o) => decodeAcFirst(r, c, o, ss, se, al, state);
}

function decodeSequential(reader: BitReader, c: ScanComponent, offset: number): void {
  const out = c.coefficients;
  const s = reader.decode(c.dcTable!);
  c.dcPrediction += reader.receiveExtend(s);
  out[offset] = c.dcPrediction;
  for (let k = 1; k < 64; ) {
    const rs = reader.decode(c.acTable!);
    const size = rs & 15;
    const run = rs >> 4;
    if (size !== 0) {
      k += run;
      const value = reader.receiveExtend(size);
      if (k < 64) out[offset + NATURAL_ORDER[k]] = value;
      k++;
    } else {
      if (run !== 15) break;
      k += 16;
    }
  }
}

function decodeDcFirst(reader: BitReader, c: ScanComponent, offset: number, al: number): void {
  c.dcPrediction += reader.receiveExtend(reader.decode(c.dcTable!));
  c.coefficients[offset] = c.dcPrediction * (1 << al);
}

function decodeDcRefine(reader: BitReader, c: ScanComponent, offset: number, al: number): void {
  if (reader.bit()) c.coefficients[offset] |= 1 << al;
}

function decodeAcFirst(reader: BitReader, c: ScanComponent, offset: number, ss: number, se: number, al: number, state: RunState): void {
  if (state.eobRun > 0) {
    state.eobRun--;
    return;
  }
  const out = c.coefficients;
  for (let k = ss; k <= se; k++) {
    const rs = reader.decode(c.acTable!);
    const size = rs & 15;
    const run = rs >> 4;
    if (size !== 0) {
      k += run;
      const value = reader.receiveExtend(size) * (1 << al);
      if (k < 64) out[offset + NATURAL_ORDER[k]] = value;
    } else if (run === 15) {
      k += 15;
    } else {
      state.eobRun = (1 << run) - 1 + reader.bits(run);
      break;
    }
  }
}

/** Successive-approximation refinement of AC coefficients (jdphuff.c decode_mcu_AC_refine). */
function decodeAcRefine(reader: BitReader, c: ScanComponent, offset: number, ss: number, se: number, al: number, state: RunState): void {
  const out = c.coefficients;
  const p1 = 1 << al;
  const m1 = -1 << al;
  // A correction bit for a coefficient already nonzero: it moves one step away from zero when set.
  const correct = (index: number) => {
    const coef = out[index];
    if (reader.bit() && (coef & p1) === 0) out[index] = coef >= 0 ? coef + p1 : coef + m1;
  };
  let k = ss;
  if (state.eobRun === 0) {
    for (; k <= se; k++) {
      const rs = reader.decode(c.acTable!);
      let run = rs >> 4;
      let value = 0;
      if ((rs & 15) !== 0) {
        value = reader.bit() ? p1 : m1;
      } else if (run !== 15) {
        state.eobRun = (1 << run) + reader.bits(run);
        break;
      }
      // Skip `run` still-zero coefficients, refining the nonzero ones passed on the way.
      while (k <= se) {
        const index = offset + NATURAL_ORDER[k];
        if (out[index] !== 0) correct(index);
        else if (--run < 0) break;
        k++;
      }
      if (value !== 0 && k <= se) out[offset + NATURAL_ORDER[k]] = value;
    }
  }
  if (state.eobRun > 0) {
    for (; k <= se; k++) {
      const index = offset + NATURAL_ORDER[k];
      if (out[index] !== 0) correct(index);
    }
    state.eobRun--;
  }
}
