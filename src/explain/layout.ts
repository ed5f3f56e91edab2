// A layer's layout, described once: how many images and channels, the grid of positions a map has, and
// where value (image, channel, position) lies in the tensor. The map kernels, EigenCAM, Score-CAM,
// Ablation-CAM read the layer through this description (shaders/layer_layout.wgsl), so a token or
// channels-last layer, a 1-D or a 3-D one is data, not a branch.
import { type Shape } from '../graph/ir.js';
import { UserError } from '../errors.js';

export const LAYOUTS = ['nchw', 'tokens', 'channels-last'] as const;
export type LayoutName = (typeof LAYOUTS)[number];

export const LAYOUT_HELP: Record<LayoutName, string> = {
  nchw: '[N, C, spatial...]: [N, C, L], [N, C, H, W] or [N, C, D, H, W] (convolutional nets)',
  tokens: '[N, T, C] with T = h*w, or 1 + h*w and a leading class token dropped (vision transformers)',
  'channels-last': '[N, H, W, C] or [N, D, H, W, C] (Swin stages, channels-last exports)',
};

export interface LayerLayout {
  name: LayoutName;
  batch: number;
  channels: number;
  /** The map's grid: [L], [H, W] or [D, H, W]. */
  spatial: number[];
  /** Value (n, k, p) lies at n * imageStride + offset + k * channelStride + p * positionStride. */
  imageStride: number;
  channelStride: number;
  positionStride: number;
  /** Values before the first position of an image: a class token's features. */
  offset: number;
  /** Tokens: whether a leading class token is skipped. */
  classToken: boolean;
}

/** The layout's strides as the kernels' uniforms (LAYER_LAYOUT_UNIFORMS). */
export function layoutUniforms(l: LayerLayout) {
  return { image_stride: l.imageStride, channel_stride: l.channelStride, position_stride: l.positionStride, layer_offset: l.offset };
}

/** The grid padded to three axes, [d, h, w], for the map kernels. */
export function grid3(spatial: readonly number[]): [number, number, number] {
  const padded = [1, 1, 1, ...spatial].slice(-3);
  return [padded[0], padded[1], padded[2]];
}

export const positionsOf = (l: LayerLayout) => l.spatial.reduce((a, b) => a * b, 1);

export function checkLayout(name: string): LayoutName {
  if (!(LAYOUTS as readonly string[]).includes(name)) throw new UserError(`unknown layout "${name}"; choose one of ${LAYOUTS.join(', ')}`);
  return name as LayoutName;
}

/**
 * The layout of a layer of `shape` read as `name`; `input` is the model input's spatial size (a token
 * grid takes its aspect ratio) and `grid` an explicit token grid [h, w].
 */
export function describeLayer(shape: Shape, name: LayoutName, input: readonly number[], grid?: readonly number[]): LayerLayout {
  const [batch] = shape;
  const imageStride = shape.slice(1).reduce((a, b) => a * b, 1);
  const base = { name, batch, imageStride, offset: 0, classToken: false };
  if (name === 'nchw') {
    if (shape.length < 3 || shape.length > 5) throw new UserError(`layout nchw needs a 3-D, 4-D or 5-D layer ([N, C, L], [N, C, H, W], [N, C, D, H, W]), got [${shape}]`);
    if (grid) throw new UserError('--grid applies to the tokens layout only');
    const spatial = shape.slice(2);
    return { ...base, channels: shape[1], spatial, channelStride: imageStride / shape[1], positionStride: 1 };
  }
  if (name === 'channels-last') {
    if (shape.length < 4 || shape.length > 5) throw new UserError(`layout channels-last needs a 4-D or 5-D layer ([N, H, W, C], [N, D, H, W, C]), got [${shape}]`);
    if (grid) throw new UserError('--grid applies to the tokens layout only');
    const channels = shape[shape.length - 1];
    return { ...base, channels, spatial: shape.slice(1, -1), channelStride: 1, positionStride: channels };
  }
  if (shape.length !== 3) throw new UserError(`layout tokens needs a 3-D layer [N, T, C], got [${shape}]`);
  const [, tokens, channels] = shape;
  const [h, w] = grid ? checkGrid(grid, tokens) : tokenGrid(tokens, input);
  const classToken = tokens === h * w + 1;
  return { ...base, channels, spatial: [h, w], channelStride: 1, positionStride: channels, offset: classToken ? channels : 0, classToken };
}

function checkGrid(grid: readonly number[], tokens: number): [number, number] {
  const [h, w] = grid;
  if (grid.length !== 2 || !(h > 0 && w > 0) || !Number.isInteger(h) || !Number.isInteger(w)) throw new UserError(`a token grid is HxW with two positive integers, got ${grid.join('x')}`);
  if (h * w !== tokens && h * w + 1 !== tokens) throw new UserError(`grid ${h}x${w} has ${h * w} positions; the layer has ${tokens} tokens (${h * w} or ${h * w + 1} with a class token)`);
  return [h, w];
}

/**
 * The token grid: T = h * w, or 1 + h * w with a class token, the factorization whose aspect h / w is
 * nearest the input's (224 x 224 with 197 tokens: 14 x 14; 32 x 24 with 49: 8 x 6 and a class token).
 * On a tie the reading without a class token wins.
 */
export function tokenGrid(tokens: number, input: readonly number[]): [number, number] {
  if (input.length !== 2) throw new UserError(`the tokens layout reads a 2-D grid from a 2-D input; this input's spatial size is [${input}]`);
  const aspect = input[0] / input[1];
  let best: { grid: [number, number]; miss: number } | undefined;
  for (const positions of [tokens, tokens - 1]) {
    for (let h = 1; h <= positions; h++) {
      if (positions % h !== 0) continue;
      const w = positions / h;
      // Distance in log-aspect, so 2:1 and 1:2 miss by the same.
      const miss = Math.abs(Math.log(h / w / aspect));
      if (!best || miss < best.miss - 1e-12) best = { grid: [h, w], miss };
    }
  }
  if (!best || best.grid[0] * best.grid[1] < 2 || best.miss > Math.log(2)) {
    throw new UserError(`cannot read ${tokens} tokens as a grid matching the input's ${input[0]}x${input[1]}; give it with --grid HxW`);
  }
  return best.grid;
}
