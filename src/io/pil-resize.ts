// Bit-exact port of Pillow's Image.resize(size, Image.BILINEAR) for 8-bit RGB (libImaging/Resample.c),
// which is what torchvision's transforms.Resize does to PIL images. When downscaling, the triangle filter's
// support grows with the scale factor (antialiasing); weights are fixed point and each pass
// (horizontal first, then vertical) rounds to uint8, so a float resampler would be off by a level here and there.

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);

/** Per output pixel: first input index, tap count, and `taps` fixed-point weights starting at i * taps. */
interface Coefficients {
  first: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Int32Array;
}

function bilinearCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the bilinear filter's support is 1
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const w = new Float64Array(taps);
  const inverseScale = 1 / filterScale;
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const n = Math.min(inSize, Math.trunc(center + support + 0.5)) - lo;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      w[k] = Math.max(0, 1 - Math.abs((k + lo - center + 0.5) * inverseScale));
      sum += w[k];
    }
    for (let k = 0; k < n; k++) {
      const normalized = sum !== 0 ? w[k] / sum : w[k];
      weights[o * taps + k] = Math.trunc(0.5 + normalized * (1 << PRECISION_BITS));
    }
    first[o] = lo;
    count[o] = n;
  }
  return { first, count, taps, weights };
}

function clip8(accumulator: number): number {
  if (accumulator >= 1 << PRECISION_BITS << 8) return 255;
  if (accumulator <= 0) return 0;
  return accumulator >> PRECISION_BITS;
}

/**
 * One resampling pass along an axis of an interleaved uint8 image with `channels` channels.
 * `stride` is the distance between neighbours along the resampled axis, `lines` the number of lines across it.
 */
function resamplePass(
  src: Uint8Array,
  dst: Uint8Array,
  c: Coefficients,
  outLength: number,
  lines: number,
  inStride: number,
  outStride: number,
  lineStrideIn: number,
  lineStrideOut: number,
  channels: number,
): void {
  for (let line = 0; line < lines; line++) {
    for (let o = 0; o < outLength; o++) {
      const lo = c.first[o];
      const n = c.count[o];
      const base = o * c.taps;
      for (let ch = 0; ch < channels; ch++) {
        let acc = HALF;
        for (let k = 0; k < n; k++) {
          acc += src[line * lineStrideIn + (lo + k) * inStride + ch] * c.weights[base + k];
        }
        dst[line * lineStrideOut + o * outStride + ch] = clip8(acc);
      }
    }
  }
}

/** Resizes interleaved uint8 pixels (`channels` per pixel) exactly as Pillow's BILINEAR resize does. */
export function pilResizeBilinear(
  src: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  channels: number,
): Uint8Array {
  let pixels = src;
  let w = width;
  if (outWidth !== width) {
    const out = new Uint8Array(outWidth * height * channels);
    const c = bilinearCoefficients(width, outWidth);
    resamplePass(pixels, out, c, outWidth, height, channels, channels, width * channels, outWidth * channels, channels);
    pixels = out;
    w = outWidth;
  }
  if (outHeight !== height) {
    const out = new Uint8Array(w * outHeight * channels);
    const c = bilinearCoefficients(height, outHeight);
    resamplePass(pixels, out, c, outHeight, w, w * channels, w * channels, channels, channels, channels);
    pixels = out;
  }
  return pixels === src ? src.slice() : pixels;
}
