// Pictures of maps that are not over a 2-D image: a 1-D signal's channels plotted one above the other
// with the map as a jet-coloured band under them, and a 3-D volume's depth slices side by side with the
// map laid over each (pytorch-grad-cam's show_cam_on_image blend, slice by slice).
import { applyJet, overlay } from './colormap.js';

export interface Picture {
  width: number;
  height: number;
  rgb: Uint8Array;
}

const LANE = 60;
const BAND = 18;
const GAP = 4;
/** Short signals are stretched to about this many pixels; long ones are drawn one column per sample up to WIDEST. */
const NARROWEST = 600;
const WIDEST = 2400;

/** The signal [channels, length] as lanes of line plots, the map (length values in [0, 1]) as a band under them. */
export function signalPlot(signal: Float32Array, channels: number, map01: Float32Array): Picture {
  const length = map01.length;
  if (signal.length !== channels * length) throw new Error(`signalPlot: ${signal.length} values, expected ${channels}x${length}`);
  const width = length >= NARROWEST ? Math.min(length, WIDEST) : length * Math.floor(NARROWEST / length);
  const height = channels * (LANE + GAP) + BAND;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const sampleAt = (x: number) => Math.min(length - 1, Math.floor((x * length) / width));
  const put = (x: number, y: number, c: readonly number[]) => rgb.set(c, (y * width + x) * 3);
  for (let c = 0; c < channels; c++) {
    const values = signal.subarray(c * length, (c + 1) * length);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const top = c * (LANE + GAP);
    const yOf = (v: number) => top + LANE - 1 - Math.round(hi > lo ? ((v - lo) / (hi - lo)) * (LANE - 1) : (LANE - 1) / 2);
    for (let x = 0; x < width; x++) put(x, top + LANE - 1, [220, 220, 220]);
    let previous = yOf(values[sampleAt(0)]);
    for (let x = 0; x < width; x++) {
      const y = yOf(values[sampleAt(x)]);
      // A vertical run from the previous column's height keeps steep signals connected.
      for (let yy = Math.min(y, previous); yy <= Math.max(y, previous); yy++) put(x, yy, [30, 30, 30]);
      previous = y;
    }
  }
  const columns = Float32Array.from({ length: width }, (_, x) => map01[sampleAt(x)]);
  const band = applyJet(columns, width, 1);
  for (let y = height - BAND; y < height; y++) rgb.set(band, y * width * 3);
  return { width, height, rgb };
}

/**
 * The volume's depth slices [channels, depth, h, w] (its first channel, in grey scaled over the whole
 * volume) with the map [depth, h, w] blended over each; slices in rows, enlarged to at least 64 pixels.
 */
export function sliceSheet(volume: Float32Array, depth: number, h: number, w: number, map01: Float32Array): Picture {
  if (map01.length !== depth * h * w || volume.length < depth * h * w) throw new Error(`sliceSheet: map ${map01.length}, volume ${volume.length} values, expected ${depth}x${h}x${w}`);
  const grey = volume.subarray(0, depth * h * w);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of grey) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const scale = Math.max(1, Math.ceil(64 / Math.min(h, w)));
  const [sh, sw] = [h * scale, w * scale];
  const columns = Math.ceil(Math.sqrt(depth));
  const rows = Math.ceil(depth / columns);
  const width = columns * (sw + GAP) - GAP;
  const height = rows * (sh + GAP) - GAP;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  for (let d = 0; d < depth; d++) {
    const image = new Float32Array(sh * sw * 3);
    const map = new Float32Array(sh * sw);
    for (let y = 0; y < sh; y++) {
      for (let x = 0; x < sw; x++) {
        const i = (d * h + Math.floor(y / scale)) * w + Math.floor(x / scale);
        const g = hi > lo ? (grey[i] - lo) / (hi - lo) : 0;
        image.fill(g, (y * sw + x) * 3, (y * sw + x) * 3 + 3);
        map[y * sw + x] = map01[i];
      }
    }
    const slice = overlay(image, map, sw, sh);
    const [left, top] = [(d % columns) * (sw + GAP), Math.floor(d / columns) * (sh + GAP)];
    for (let y = 0; y < sh; y++) rgb.set(slice.subarray(y * sw * 3, (y + 1) * sw * 3), ((top + y) * width + left) * 3);
  }
  return { width, height, rgb };
}
