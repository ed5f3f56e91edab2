// EigenCAM and EigenGrad-CAM in a plan: the first principal component of the layer's centred values
// (A, or dy/dA * A) per image, found by repeated normalized squaring of the smaller Gram matrix
// (shaders/eigen_*.wgsl), sign-corrected and ReLU'd into the coarse map that the shared resize and
// normalization steps turn into the map.
import { UserError } from '../errors.js';
import { EIGEN_SQUARINGS, EIGEN_VALUES, eigenKernels, type EigenValues } from '../kernels/gradcam.js';
import type { TensorRef } from '../kernels/program.js';
import type { PlanBuilder } from '../plan/builder.js';
import { type LayerLayout, layoutUniforms, positionsOf } from './layout.js';

/** Keeps the Gram matrices of a batch of two within one binding of every adapter (128 MiB). */
export const MAX_EIGEN_DIM = 2048;

/** The coarse map [batch, positions] of the projection of `values` (the gradient needed for all but the activations). */
export function addEigenProjection(b: PlanBuilder, values: EigenValues, activations: TensorRef, gradient: TensorRef | undefined, layout: LayerLayout, label: string): TensorRef {
  const { batch, channels } = layout;
  const plane = positionsOf(layout);
  checkEigenSize(channels, plane, label);
  const centred = b.scratch([batch, channels, plane], `${label}: centred values`);
  b.dispatch(
    eigenKernels.centre.program({
      uniforms: { channels, plane, product: EIGEN_VALUES[values], ...layoutUniforms(layout) },
      bindings: { activations, gradient: gradient ?? activations, centred },
      count: batch * channels,
    }),
    `${label}: centre`,
  );
  return addCentredProjection(b, centred, label);
}

function checkEigenSize(channels: number, plane: number, label: string): void {
  const dim = Math.min(plane, channels);
  if (dim > MAX_EIGEN_DIM) {
    throw new UserError(`${label}: the layer's ${channels} channels x ${plane} positions need a ${dim}x${dim} Gram matrix; at most ${MAX_EIGEN_DIM}`);
  }
}

/**
 * The coarse map [batch, plane] of the first principal component of values already centred per channel,
 * [batch, channels, plane] (EigenCAM's values, or --smooth-eigen's terms).
 */
export function addCentredProjection(b: PlanBuilder, centred: TensorRef, label: string): TensorRef {
  const [batch, channels, plane] = centred.shape;
  checkEigenSize(channels, plane, label);
  const dim = Math.min(plane, channels);
  const uniforms = { batch, channels, plane, dim, over_channels: plane <= channels ? 1 : 0 };
  const gram = b.scratch([batch, dim, dim], `${label}: Gram matrix`);
  b.dispatch(eigenKernels.gram.program({ uniforms, bindings: { centred, gram }, count: batch * dim * dim }), `${label}: Gram matrix`);
  const powers = [b.scratch([batch, dim, dim], `${label}: power`), b.scratch([batch, dim, dim], `${label}: power`)];
  let source = gram;
  for (let s = 0; s < EIGEN_SQUARINGS; s++) {
    const squared = powers[s % 2];
    b.dispatch(eigenKernels.square.program({ uniforms, bindings: { source, squared }, count: batch * dim * dim }), `${label}: squaring ${s + 1}`);
    source = squared;
  }
  const vector = b.scratch([batch, 2, dim], `${label}: eigenvector`);
  const coarse = b.scratch([batch, plane], `${label}: coarse map`);
  b.dispatch(
    eigenKernels.project.program({ uniforms, bindings: { centred, gram, power: source, vector, coarse }, workgroups: [batch, 1, 1] }),
    `${label}: projection`,
  );
  return coarse;
}
