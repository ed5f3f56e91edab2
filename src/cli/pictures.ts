// The pictures `gradcam explain --out` writes: per image the heatmap and overlay of a 2-D map, the
// guided methods' gradient picture, a signal's plot with its map band, a volume's depth slices.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Explanation } from '../explain/explainer.js';
import { GUIDED } from '../explain/methods.js';
import { UserError } from '../errors.js';
import { applyJet, overlay, planarToRgb } from '../io/colormap.js';
import { rgbToFloat01 } from '../io/image.js';
import { signalPlot, sliceSheet } from '../io/plots.js';
import { writePng } from '../io/png.js';
import type { ModelInput } from './inputs.js';

/** A layer's tensor name as part of a file name ("/layer4/relu/Relu_output_0" -> "layer4_relu_Relu_output_0"). */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'layer';
}

export function writeImages(dir: string, input: ModelInput, result: Explanation, tag: string): string[][] {
  mkdirSync(dir, { recursive: true });
  const spatial = input.tensor.shape.slice(2);
  const guided = GUIDED.includes(result.method);
  if (spatial.length !== 2) {
    if (guided) throw new UserError(`--out draws the guided methods' gradients over 2-D images; for this [${input.tensor.shape}] input use --npy`);
    return writeSignalOrVolume(dir, input, result, tag);
  }
  const [height, width] = result.map.shape.slice(-2);
  const plane = height * width;
  if (guided) {
    // A guided gradient: the picture itself, no colormap.
    const channels = result.map.shape[1];
    return input.names.map((name, n) => {
      const file = join(dir, `${name}${tag}.${result.method}.png`);
      writePng(file, width, height, planarToRgb(result.normalized.data.subarray(n * channels * plane, (n + 1) * channels * plane), channels, width, height));
      return [file];
    });
  }
  return input.names.map((name, n) => {
    const map01 = result.normalized.data.subarray(n * plane, (n + 1) * plane);
    const heatmap = join(dir, `${name}${tag}.heatmap.png`);
    writePng(heatmap, width, height, applyJet(map01, width, height));
    if (!input.images) return [heatmap];
    const blended = join(dir, `${name}${tag}.overlay.png`);
    writePng(blended, width, height, overlay(rgbToFloat01(input.images[n]), map01, width, height));
    return [heatmap, blended];
  });
}

/** A signal's plot with its map band (NAME.signal.png), or a volume's slices with the map over them (NAME.slices.png). */
function writeSignalOrVolume(dir: string, input: ModelInput, result: Explanation, tag: string): string[][] {
  const [, channels, ...spatial] = input.tensor.shape;
  const positions = spatial.reduce((a, b) => a * b, 1);
  return input.names.map((name, n) => {
    const map01 = result.normalized.data.subarray(n * positions, (n + 1) * positions);
    const values = input.tensor.data.subarray(n * channels * positions, (n + 1) * channels * positions);
    const [file, picture] = spatial.length === 1
      ? [join(dir, `${name}${tag}.signal.png`), signalPlot(values, channels, map01)]
      : [join(dir, `${name}${tag}.slices.png`), sliceSheet(values, spatial[0], spatial[1], spatial[2], map01)];
    writePng(file, picture.width, picture.height, picture.rgb);
    return [file];
  });
}
