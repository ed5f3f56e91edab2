// JPEG marker parsing (T.81 Annex B) and the decode to per-component sample planes: tables, frame header,
// scans (decoded by scan.ts), then each component's blocks through the ISLOW IDCT with the quantization table
// libjpeg latches at the component's first scan. Colour handling is pixels.ts's.
import { idctBlock, IdctWorkspace } from './idct.js';
import { buildHuffmanTable, decodeScan, NATURAL_ORDER, type HuffmanTable, type ScanComponent } from './scan.js';

/** The colour space of the stored components, decided as libjpeg's default_decompress_parms decides it. */
export type JpegColourSpace = 'grey' | 'ycc' | 'rgb' | 'cmyk' | 'ycck';

export interface JpegPlane {
  /** Sampling factors of the component and the frame's largest ones. */
  h: number;
  v: number;
  /** Samples holding image data: ceil(image size x factor / largest factor). */
  width: number;
  height: number;
  /** Row stride of `samples` (whole blocks). */
  stride: number;
  samples: Uint8Array;
}

export interface DecodedJpeg {
  width: number;
  height: number;
  maxH: number;
  maxV: number;
  colourSpace: JpegColourSpace;
  planes: JpegPlane[];
  /** The EXIF orientation tag (1-8), 1 when absent. */
  orientation: number;
}

interface FrameComponent extends ScanComponent {
  id: number;
  quantIndex: number;
  /** The quantization table, copied when the component's first scan starts (libjpeg's latch_quant_tables). */
  quant?: Uint16Array;
  width: number;
  height: number;
}

const SOF_NAMES: Record<number, string> = {
  0xc3: 'lossless',
  0xc5: 'differential sequential',
  0xc6: 'differential progressive',
  0xc7: 'differential lossless',
  0xc9: 'arithmetic-coded sequential',
  0xca: 'arithmetic-coded progressive',
  0xcb: 'arithmetic-coded lossless',
  0xcd: 'arithmetic-coded differential sequential',
  0xce: 'arithmetic-coded differential progressive',
  0xcf: 'arithmetic-coded differential lossless',
};

export function parseJpeg(data: Uint8Array): DecodedJpeg {
  if (data[0] !== 0xff || data[1] !== 0xd8) throw new Error('no SOI marker');
  const quantTables: (Uint16Array | undefined)[] = [];
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  let frame: Frame | undefined;
  let restartInterval = 0;
  let jfif = false;
  let adobeTransform: number | undefined;
  let orientation = 1;
  let scans = 0;
  let pos = 2;
  for (;;) {
    while (pos < data.length && data[pos] !== 0xff) pos++; // libjpeg skips garbage before a marker (with a warning)
    while (pos < data.length && data[pos] === 0xff) pos++;
    if (pos >= data.length) break;
    const marker = data[pos++];
    if (marker === 0xd9) break; // EOI
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // no length field
    if (pos + 2 > data.length) throw new Error('truncated marker');
    const length = (data[pos] << 8) | data[pos + 1];
    const body = data.subarray(pos + 2, pos + length);
    if (length < 2 || body.length !== length - 2) throw new Error('truncated marker segment');
    pos += length;
    if (marker === 0xe0 && ascii(body, 0, 5) === 'JFIF\0') jfif = true;
    else if (marker === 0xee && body.length >= 12 && ascii(body, 0, 5) === 'Adobe') adobeTransform = body[11];
    else if (marker === 0xe1 && ascii(body, 0, 6) === 'Exif\0\0') orientation = exifOrientation(body.subarray(6)) ?? orientation;
    else if (marker === 0xdb) readQuantTables(body, quantTables);
    else if (marker === 0xc4) readHuffmanTables(body, dcTables, acTables);
    else if (marker === 0xdd) restartInterval = (body[0] << 8) | body[1];
    else if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      if (frame) throw new Error('more than one frame');
      frame = readFrame(body, marker === 0xc2);
    } else if (SOF_NAMES[marker]) throw new Error(`${SOF_NAMES[marker]} JPEG is not supported (only Huffman-coded baseline, extended and progressive files)`);
    else if (marker === 0xdc) throw new Error('DNL marker (image height defined after the first scan) is not supported');
    else if (marker === 0xda) {
      if (!frame) throw new Error('scan before the frame header');
      pos = readScan(data, pos, body, frame, { quantTables, dcTables, acTables, restartInterval });
      scans++;
    }
  }
  if (!frame) throw new Error('no frame header');
  if (scans === 0) throw new Error('no image data');
  return {
    width: frame.width,
    height: frame.height,
    maxH: frame.maxH,
    maxV: frame.maxV,
    colourSpace: colourSpace(frame.components, jfif, adobeTransform),
    planes: frame.components.map(toPlane),
    orientation,
  };
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function readQuantTables(body: Uint8Array, tables: (Uint16Array | undefined)[]): void {
  for (let p = 0; p < body.length; ) {
    const precision = body[p] >> 4;
    const index = body[p] & 15;
    if (index > 3) throw new Error('bad quantization table index');
    const table = new Uint16Array(64);
    for (let k = 0; k < 64; k++) table[NATURAL_ORDER[k]] = precision ? (body[p + 1 + 2 * k] << 8) | body[p + 2 + 2 * k] : body[p + 1 + k];
    p += 1 + (precision ? 128 : 64);
    if (p > body.length) throw new Error('truncated quantization table');
    tables[index] = table;
  }
}

function readHuffmanTables(body: Uint8Array, dc: (HuffmanTable | undefined)[], ac: (HuffmanTable | undefined)[]): void {
  for (let p = 0; p < body.length; ) {
    const kind = body[p] >> 4;
    const index = body[p] & 15;
    if (kind > 1 || index > 3) throw new Error('bad Huffman table class or index');
    const counts = body.subarray(p + 1, p + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    if (total > 256 || p + 17 + total > body.length) throw new Error('bad Huffman table');
    const table = buildHuffmanTable(counts, body.subarray(p + 17, p + 17 + total));
    (kind === 0 ? dc : ac)[index] = table;
    p += 17 + total;
  }
}

interface Frame {
  width: number;
  height: number;
  progressive: boolean;
  components: FrameComponent[];
  maxH: number;
  maxV: number;
  mcusPerLine: number;
  mcusPerColumn: number;
}

function readFrame(body: Uint8Array, progressive: boolean): Frame {
  const precision = body[0];
  if (precision !== 8) throw new Error(`${precision}-bit samples are not supported (8-bit only)`);
  const height = (body[1] << 8) | body[2];
  const width = (body[3] << 8) | body[4];
  const count = body[5];
  if (width === 0 || height === 0) throw new Error('image size 0 (or defined by a DNL marker, not supported)');
  if (count === 0 || body.length < 6 + 3 * count) throw new Error('bad frame header');
  const specs = Array.from({ length: count }, (_, i) => ({ id: body[6 + 3 * i], h: body[7 + 3 * i] >> 4, v: body[7 + 3 * i] & 15, quantIndex: body[8 + 3 * i] }));
  if (specs.some((c) => c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.quantIndex > 3)) throw new Error('bad sampling factor or table index');
  const maxH = Math.max(...specs.map((c) => c.h));
  const maxV = Math.max(...specs.map((c) => c.v));
  const mcusPerLine = Math.ceil(width / (8 * maxH));
  const mcusPerColumn = Math.ceil(height / (8 * maxV));
  const components: FrameComponent[] = specs.map((c) => {
    const w = Math.ceil((width * c.h) / maxH);
    const h = Math.ceil((height * c.v) / maxV);
    const blocksPerLine = mcusPerLine * c.h;
    const blocksPerColumn = mcusPerColumn * c.v;
    return {
      ...c,
      width: w,
      height: h,
      blocksPerLine,
      blocksPerColumn,
      usedBlocksPerLine: Math.ceil(w / 8),
      usedBlocksPerColumn: Math.ceil(h / 8),
      coefficients: new Int16Array(blocksPerLine * blocksPerColumn * 64),
      dcPrediction: 0,
    };
  });
  return { width, height, progressive, components, maxH, maxV, mcusPerLine, mcusPerColumn };
}

interface Tables {
  quantTables: (Uint16Array | undefined)[];
  dcTables: (HuffmanTable | undefined)[];
  acTables: (HuffmanTable | undefined)[];
  restartInterval: number;
}

function readScan(data: Uint8Array, pos: number, body: Uint8Array, frame: Frame, tables: Tables): number {
  const count = body[0];
  if (count < 1 || count > 4 || body.length < 4 + 2 * count) throw new Error('bad scan header');
  const components = Array.from({ length: count }, (_, i) => {
    const component = frame.components.find((c) => c.id === body[1 + 2 * i]);
    if (!component) throw new Error('scan names a component the frame does not have');
    return { component, dc: body[2 + 2 * i] >> 4, ac: body[2 + 2 * i] & 15 };
  });
  const spectralStart = body[1 + 2 * count];
  const spectralEnd = body[2 + 2 * count];
  const approxHigh = body[3 + 2 * count] >> 4;
  const approxLow = body[3 + 2 * count] & 15;
  const needsDc = !frame.progressive || spectralStart === 0;
  const needsAc = !frame.progressive || spectralStart > 0;
  if (frame.progressive && (spectralEnd > 63 || spectralStart > spectralEnd || (spectralStart > 0 && count !== 1) || approxLow > 13)) {
    throw new Error('bad progressive scan parameters');
  }
  for (const { component, dc, ac } of components) {
    component.quant ??= tables.quantTables[component.quantIndex];
    if (!component.quant) throw new Error('a component uses a quantization table that was never defined');
    component.dcTable = needsDc && approxHigh === 0 ? tables.dcTables[dc] : undefined;
    component.acTable = needsAc ? tables.acTables[ac] : undefined;
    if ((needsDc && approxHigh === 0 && !component.dcTable) || (needsAc && !component.acTable)) throw new Error('a scan uses a Huffman table that was never defined');
  }
  return decodeScan(data, pos, {
    components: components.map((c) => c.component),
    mcusPerLine: frame.mcusPerLine,
    mcusPerColumn: frame.mcusPerColumn,
    progressive: frame.progressive,
    spectralStart: frame.progressive ? spectralStart : 0,
    spectralEnd: frame.progressive ? spectralEnd : 63,
    approxHigh: frame.progressive ? approxHigh : 0,
    approxLow: frame.progressive ? approxLow : 0,
    restartInterval: tables.restartInterval,
  });
}

/** The component's samples: every block holding image data through the IDCT. */
function toPlane(c: FrameComponent): JpegPlane {
  const stride = c.usedBlocksPerLine * 8;
  const samples = new Uint8Array(stride * c.usedBlocksPerColumn * 8);
  const ws = new IdctWorkspace();
  const quant = c.quant ?? new Uint16Array(64); // a component no scan covered decodes as zeros, as in libjpeg
  for (let by = 0; by < c.usedBlocksPerColumn; by++) {
    for (let bx = 0; bx < c.usedBlocksPerLine; bx++) {
      idctBlock(c.coefficients, (by * c.blocksPerLine + bx) * 64, quant, samples, by * 8 * stride + bx * 8, stride, ws);
    }
  }
  return { h: c.h, v: c.v, width: c.width, height: c.height, stride, samples };
}

/** libjpeg's default_decompress_parms: JFIF means YCbCr; an Adobe marker's transform decides; else the ids. */
function colourSpace(components: FrameComponent[], jfif: boolean, adobeTransform: number | undefined): JpegColourSpace {
  if (components.length === 1) return 'grey';
  if (components.length === 3) {
    if (jfif) return 'ycc';
    if (adobeTransform !== undefined) return adobeTransform === 0 ? 'rgb' : 'ycc';
    const ids = components.map((c) => c.id).join(',');
    return ids === '82,71,66' ? 'rgb' : 'ycc'; // 'R','G','B'
  }
  if (components.length === 4) return adobeTransform === undefined || adobeTransform === 0 ? 'cmyk' : 'ycck';
  throw new Error(`${components.length}-component JPEG is not supported (1, 3 or 4 components)`);
}

/** The orientation tag (0x0112) of IFD0 in an EXIF TIFF structure, if present and valid. */
export function exifOrientation(tiff: Uint8Array): number | undefined {
  if (tiff.length < 8) return undefined;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const u16 = (p: number) => (little ? tiff[p] | (tiff[p + 1] << 8) : (tiff[p] << 8) | tiff[p + 1]);
  const u32 = (p: number) => (little ? u16(p) + u16(p + 2) * 65536 : u16(p) * 65536 + u16(p + 2));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > tiff.length) return undefined;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}
