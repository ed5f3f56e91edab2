// SmoothGrad (Smilkov et al. 2017) for the gradient methods: each image's explanation averaged over
// `samples` noisy copies, x + N(0, (noise * (max x - min x))^2); and --smooth-aug, pytorch-grad-cam's
// test-time augmentation, averaged over flipped and brightened copies. The explainer's plan runs on a
// batch of copies: it makes them on the GPU from the clean images (shaders/smooth_noise.wgsl,
// smooth_augment.wgsl) and, instead of reading its maps back, folds them into per-image means that it
// shares; a finish plan normalizes the means (or reads the averaged normalized maps) once every copy
// has run.
import { type Shape, elementCount } from '../graph/ir.js';
import { UserError } from '../errors.js';
import { guidedImageKernel, smoothKernels } from '../kernels/gradcam.js';
import type { TensorRef } from '../kernels/program.js';
import { PlanBuilder } from '../plan/builder.js';
import { Executable } from '../plan/executable.js';
import type { Model } from '../runtime/model.js';
import { addNormalize } from './map.js';
import type { ShapedGraph } from '../ops/infer.js';

export interface SmoothOptions {
  /** Noisy copies per image. */
  samples: number;
  /** The noise's standard deviation as a fraction of each image's value range (Smilkov et al.: 0.1 to 0.2). */
  noise: number;
  /** The generator's seed (a 32-bit unsigned integer); default 0. */
  seed?: number;
}

/**
 * A plan's smoothing: `images` clean images, explained as batches of noisy copies. The noise level and
 * the seed are not part of it: they travel with each run (smoothRun), so a sweep over seeds or noise
 * levels reuses one plan. With `augment`, the copies are --smooth-aug's instead (AUGMENTATIONS per
 * image: flipped along the last axis, of size `width`, or not, times a brightness factor), their maps
 * mirrored back before the mean, and the normalized maps averaged too (pytorch-grad-cam's result).
 */
export interface Smoothing {
  images: number;
  samples: number;
  augment?: { width: number };
}

/** --smooth-aug's copies per image: ttach's HorizontalFlip x Multiply [0.9, 1, 1.1] (shaders/smooth_augment.wgsl). */
export const AUGMENTATIONS = 6;

export const SMOOTH_IMAGES = '<smooth: images>';
/** A run's [first copy, seed, noise]: an i32, a u32 and an f32 in one i32 tensor (shaders/smooth_noise.wgsl reads them). */
export const SMOOTH_RUN = '<smooth: run>';

export function smoothRun(first: number, s: SmoothOptions): Int32Array {
  const run = new Int32Array(3);
  run[0] = first;
  new Uint32Array(run.buffer)[1] = s.seed ?? 0;
  new Float32Array(run.buffer)[2] = s.noise;
  return run;
}

export function checkSmoothOptions(s: SmoothOptions): void {
  if (!Number.isInteger(s.samples) || s.samples < 1) throw new UserError(`SmoothGrad needs a positive whole number of samples, got ${s.samples}`);
  if (!Number.isFinite(s.noise) || s.noise < 0) throw new UserError(`SmoothGrad's noise level must be a number >= 0, got ${s.noise}`);
  checkSeed(s.seed ?? 0);
}

/** A seed of the counter-based generator (shaders/random.wgsl): a 32-bit unsigned integer. */
export function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UserError(`the seed must be an integer from 0 to 4294967295, got ${seed}`);
}

/** Makes the plan's model input a batch of copies of the clean images: noisy, or --smooth-aug's. */
export function addCopiedInput(b: PlanBuilder, inputName: string, copiesShape: Shape, s: Smoothing): void {
  const [, ...image] = copiesShape;
  const perImage = elementCount(image);
  const images = b.addInput(SMOOTH_IMAGES, [s.images, ...image]);
  const first = b.addInput(SMOOTH_RUN, [3], 'i32');
  if (s.augment) {
    const augmented = b.scratch(copiesShape, '--smooth-aug: copies');
    b.dispatch(
      smoothKernels.augment.program({
        uniforms: { images: s.images, samples: s.samples, per_image: perImage, width: s.augment.width },
        bindings: { image: images, first, augmented },
        count: elementCount(copiesShape),
      }),
      '--smooth-aug: copies',
    );
    b.setValue(inputName, augmented);
    return;
  }
  const range = b.scratch([s.images, 2], 'SmoothGrad: image ranges');
  b.dispatch(smoothKernels.range.program({ uniforms: { per_image: perImage }, bindings: { image: images, image_range: range }, workgroups: [s.images, 1, 1] }), 'SmoothGrad: image ranges');
  const noisy = b.scratch(copiesShape, 'SmoothGrad: noisy copies');
  b.dispatch(
    smoothKernels.noise.program({
      uniforms: { images: s.images, samples: s.samples, per_image: perImage },
      bindings: { image: images, image_range: range, first, noisy },
      count: elementCount(copiesShape),
    }),
    'SmoothGrad: noisy copies',
  );
  b.setValue(inputName, noisy);
}

/**
 * Folds a per-copy result [copies, ...] into a shared per-image one [images, ...] under `name`: the
 * mean over the samples, or (margins) the minimum.
 */
export function addAccumulation(b: PlanBuilder, perCopy: TensorRef, name: string, s: Smoothing, mode: 'mean' | 'min'): void {
  const [copies, ...rest] = perCopy.shape;
  const perImage = elementCount(rest);
  const first = b.inputs.get(SMOOTH_RUN)!;
  const result = b.scratch([s.images, ...rest], `SmoothGrad: ${name}`);
  b.dispatch(
    smoothKernels.accumulate.program({
      uniforms: { images: s.images, samples: s.samples, batch: copies, per_image: perImage, mode: mode === 'min' ? 1 : 0, mirror: mode === 'mean' && s.augment ? s.augment.width : 0 },
      bindings: { per_copy: perCopy, first, result },
      count: s.images * perImage,
    }),
    `SmoothGrad: ${name}`,
  );
  b.addShared(name, result);
}

/**
 * What the finish plan reads: each mean map (its shape), each minimum margin, and the normalized maps
 * that were averaged themselves (--smooth-aug) rather than normalized from the mean.
 */
export interface Accumulated {
  maps: Map<string, Shape>;
  margins: Map<string, Shape>;
  normalized: Set<string>;
}

/** The finish plan: every mean map normalized as the plain plan normalizes it, and read back with the margins. */
export async function finishPlan(model: Model, shaped: ShapedGraph, copiesPlan: Executable, accumulated: Accumulated): Promise<Executable> {
  const b = new PlanBuilder(shaped, model.deviceTraits);
  b.setPhase('cam');
  const externals = new Map<string, GPUBuffer>();
  const external = (name: string, shape: Shape) => {
    externals.set(name, copiesPlan.sharedBuffer(name));
    return b.addExternal(name, shape);
  };
  for (const [name, shape] of accumulated.maps) {
    const map = external(name, shape);
    const normalizedName = name.replace(/^map:/, 'normalized:');
    b.addOutput(name, map);
    if (accumulated.normalized.has(normalizedName)) {
      b.addOutput(normalizedName, external(normalizedName, shape));
      continue;
    }
    const normalized = b.scratch(shape, `normalized ${name}`);
    const [images] = shape;
    // Maps are [images, positions]; the guided methods' images keep the input's shape.
    if (shape.length > 2) {
      const perImage = elementCount(shape) / images;
      b.dispatch(guidedImageKernel.program({ uniforms: { per_image: perImage }, bindings: { values: map, image: normalized }, workgroups: [images, 1, 1] }), `normalize ${name}`);
    } else {
      addNormalize(b, map, normalized, name);
    }
    b.addOutput(normalizedName, normalized);
  }
  for (const [name, shape] of accumulated.margins) b.addOutput(name, external(name, shape));
  return Executable.create(model.gpu, b.build(), model.weights, { externals });
}
