// JPEG decoding close to libjpeg-turbo, which Pillow (hence the torchvision reference pipeline) uses.
// jpeg-js does the entropy decoding and the IDCT; for ordinary YCbCr files the chroma upsampling and the
// colour conversion are redone the libjpeg-turbo way (jdsample.c "fancy" triangle upsampling, jdcolor.c
// fixed-point tables), because jpeg-js replicates chroma pixels and truncates its float conversion:
// that alone put 4:2:0 pixels up to 61 levels (mean 6.8) away from Pillow on the test image.
import { decode } from 'jpeg-js';
import type { RgbImage } from './image.js';

// jpeg-js counts its coefficient and pixel buffers against this cap; its default (512 MB) rejects
// ordinary 40-50 megapixel photos, which need about 600 MB.
const MAX_MEMORY_MB = 1024;

interface Sampling {
  h: number;
  v: number;
}

/** Component sampling factors from the frame header, and whether an Adobe APP14 marker is present. */
function readFrameHeader(bytes: Uint8Array): { components: Sampling[]; adobe: boolean } | undefined {
  let adobe = false;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1];
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    const body = pos + 4;
    if (marker === 0xee && String.fromCharCode(...bytes.subarray(body, body + 5)) === 'Adobe') adobe = true;
    // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const count = bytes[body + 5];
      const components = Array.from({ length: count }, (_, i) => {
        const hv = bytes[body + 6 + i * 3 + 1];
        return { h: hv >> 4, v: hv & 15 };
      });
      return { components, adobe };
    }
    if (marker === 0xda) return undefined; // scan data before any frame header
    pos += 2 + length;
  }
  return undefined;
}

export function decodeJpeg(bytes: Uint8Array): RgbImage {
  const options = { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: MAX_MEMORY_MB } as const;
  const frame = readFrameHeader(bytes);
  const ratio = frame && chromaRatio(frame.components);
  // Adobe files (RGB, CMYK, YCCK) and unusual samplings: jpeg-js's own conversion.
  if (!frame || frame.adobe || !ratio) {
    const { width, height, data } = decode(bytes, options);
    return { width, height, data };
  }
  const { width, height, data: ycc } = decode(bytes, { ...options, colorTransform: false });
  const cb = upsample(subsampledPlane(ycc, width, height, 1, ratio), width, height, ratio);
  const cr = upsample(subsampledPlane(ycc, width, height, 2, ratio), width, height, ratio);
  return { width, height, data: yccToRgb(ycc, cb, cr) };
}

/** How many luma pixels one chroma sample spans in x and y, for the layouts libjpeg-turbo upsamples smoothly. */
function chromaRatio(components: Sampling[]): [number, number] | undefined {
  if (components.length !== 3) return undefined;
  const [y, cb, cr] = components;
  if (cb.h !== cr.h || cb.v !== cr.v || y.h % cb.h !== 0 || y.v % cb.v !== 0) return undefined;
  const rx = y.h / cb.h;
  const ry = y.v / cb.v;
  return rx <= 2 && ry <= 2 ? [rx, ry] : undefined;
}

interface Plane {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Recovers the stored chroma samples from jpeg-js's pixel-replicated output. */
function subsampledPlane(ycc: Uint8Array, width: number, height: number, channel: number, [rx, ry]: [number, number]): Plane {
  const w = Math.ceil(width / rx);
  const h = Math.ceil(height / ry);
  const data = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) data[j * w + i] = ycc[(j * ry * width + i * rx) * 3 + channel];
  }
  return { width: w, height: h, data };
}

/**
 * libjpeg-turbo's h2v1/h1v2/h2v2 fancy upsampling: 3/4 of the sample an output pixel lies in plus 1/4 of the
 * neighbour on its side, per subsampled axis, with edges replicated and jdsample.c's alternating rounding biases.
 */
function upsample(plane: Plane, width: number, height: number, [rx, ry]: [number, number]): Uint8Array {
  const { width: w, data } = plane;
  const [nearX, farX] = sampleIndices(width, rx, plane.width);
  const [nearY, farY] = sampleIndices(height, ry, plane.height);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const near = nearY[y] * w;
    const far = farY[y] * w;
    for (let x = 0; x < width; x++) {
      const nx = nearX[x];
      const fx = farX[x];
      let value: number;
      if (rx === 2 && ry === 2) {
        value = (3 * (3 * data[near + nx] + data[far + nx]) + 3 * data[near + fx] + data[far + fx] + 8 - (x & 1)) >> 4;
      } else if (rx === 2) {
        value = (3 * data[near + nx] + data[near + fx] + 1 + (x & 1)) >> 2;
      } else if (ry === 2) {
        value = (3 * data[near + nx] + data[far + nx] + 1 + (y & 1)) >> 2;
      } else {
        value = data[near + nx];
      }
      out[y * width + x] = value;
    }
  }
  return out;
}

/** Per output index along one axis: the sample it lies in, and the neighbouring sample on its side. */
function sampleIndices(size: number, ratio: number, samples: number): [Int32Array, Int32Array] {
  const near = new Int32Array(size);
  const far = new Int32Array(size);
  for (let o = 0; o < size; o++) {
    near[o] = Math.floor(o / ratio);
    far[o] = ratio === 2 ? Math.min(Math.max(near[o] + (o % 2 === 0 ? -1 : 1), 0), samples - 1) : near[o];
  }
  return [near, far];
}

// jdcolor.c: 16-bit fixed point, FIX(x) = round(x * 2^16), arithmetic right shifts.
const SCALE_BITS = 16;
const ONE_HALF = 1 << (SCALE_BITS - 1);
const fix = (x: number) => Math.round(x * (1 << SCALE_BITS));
const CR_R = Array.from({ length: 256 }, (_, i) => (fix(1.402) * (i - 128) + ONE_HALF) >> SCALE_BITS);
const CB_B = Array.from({ length: 256 }, (_, i) => (fix(1.772) * (i - 128) + ONE_HALF) >> SCALE_BITS);
const CR_G = Array.from({ length: 256 }, (_, i) => -fix(0.71414) * (i - 128));
const CB_G = Array.from({ length: 256 }, (_, i) => -fix(0.34414) * (i - 128) + ONE_HALF);

function yccToRgb(ycc: Uint8Array, cb: Uint8Array, cr: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(ycc.length);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let p = 0; p < cb.length; p++) {
    const y = ycc[p * 3];
    rgb[p * 3] = clamp(y + CR_R[cr[p]]);
    rgb[p * 3 + 1] = clamp(y + ((CB_G[cb[p]] + CR_G[cr[p]]) >> SCALE_BITS));
    rgb[p * 3 + 2] = clamp(y + CB_B[cb[p]]);
  }
  return rgb;
}
