// The projection methods in a plan: the first principal component of a layer's centred values per image
// (EigenCAM's A, EigenGrad-CAM's dy/dA * A, Seg-Eigen-CAM's |dy/dA| * A, --smooth-eigen's terms), found
// by repeated normalized squaring of the smaller Gram matrix (shaders/eigen_*.wgsl), or KPCA-CAM's in
// the sigmoid kernel's feature space (shaders/kpca_*.wgsl); sign-corrected and ReLU'd into the coarse
// map that the shared resize and normalization steps turn into the map.
import { UserError } from '../errors.js';
import { EIGEN_SQUARE_RUN, EIGEN_SQUARINGS, EIGEN_VALUES, eigenKernels, type EigenValues, kpcaKernels } from '../kernels/gradcam.js';
import type { TensorRef } from '../kernels/program.js';
import type { PlanBuilder } from '../plan/builder.js';
import { type LayerLayout, layoutUniforms, positionsOf } from './layout.js';

/** Keeps the Gram matrices of a batch of two within one binding of every adapter (128 MiB). */
export const MAX_EIGEN_DIM = 2048;

/** The coarse map [batch, positions] of the projection of `values` (the gradient needed for all but the activations). */
export function addEigenProjection(b: PlanBuilder, values: EigenValues, activations: TensorRef, gradient: TensorRef | undefined, layout: LayerLayout, label: string): TensorRef {
  return addCentredProjection(b, addCentred(b, values, activations, gradient, layout, label), label);
}

/** The layer's values (A, or a product with the gradient), each channel centred: [batch, channels, plane]. */
function addCentred(b: PlanBuilder, values: EigenValues, activations: TensorRef, gradient: TensorRef | undefined, layout: LayerLayout, label: string): TensorRef {
  const { batch, channels } = layout;
  const plane = positionsOf(layout);
  const centred = b.scratch([batch, channels, plane], `${label}: centred values`);
  b.dispatch(
    eigenKernels.centre.program({
      uniforms: { channels, plane, product: EIGEN_VALUES[values], ...layoutUniforms(layout) },
      bindings: { activations, gradient: gradient ?? activations, centred },
      count: batch * channels,
    }),
    `${label}: centre`,
  );
  return centred;
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
  return addTopComponent(b, uniforms, centred, gram, gram, label);
}

/**
 * KPCA-CAM's coarse map [batch, plane]: the activations centred per channel, their Gram matrix over
 * positions, the sigmoid kernel of it centred in feature space and shifted (shaders/kpca_common.wgsl),
 * its top eigenvector scaled by sqrt(lambda_1).
 */
export function addKernelProjection(b: PlanBuilder, activations: TensorRef, layout: LayerLayout, label: string): TensorRef {
  const { batch, channels } = layout;
  const plane = positionsOf(layout);
  if (plane > MAX_EIGEN_DIM) throw new UserError(`${label}: the layer's ${plane} positions need a ${plane}x${plane} kernel matrix; at most ${MAX_EIGEN_DIM}`);
  const centred = addCentred(b, 'activations', activations, undefined, layout, label);
  const uniforms = { batch, channels, plane, dim: plane, over_channels: 1 };
  const kernelUniforms = { ...uniforms, gamma: 1 / channels, coef0: KPCA_COEF0 };
  const square = batch * plane * plane;
  const gram = b.scratch([batch, plane, plane], `${label}: Gram matrix`);
  b.dispatch(eigenKernels.gram.program({ uniforms, bindings: { centred, gram }, count: square }), `${label}: Gram matrix`);
  const rows = b.scratch([batch, plane], `${label}: kernel row means`);
  b.dispatch(kpcaKernels.rows.program({ uniforms: kernelUniforms, bindings: { gram, rows }, count: batch * plane }), `${label}: kernel row means`);
  const kernel = b.scratch([batch, plane, plane], `${label}: centred kernel`);
  b.dispatch(kpcaKernels.centre.program({ uniforms: kernelUniforms, bindings: { gram, rows, centred_kernel: kernel }, count: square }), `${label}: centred kernel`);
  const bounds = b.scratch([batch, plane], `${label}: Gershgorin bounds`);
  b.dispatch(kpcaKernels.bound.program({ uniforms, bindings: { centred_kernel: kernel, bounds }, count: batch * plane }), `${label}: Gershgorin bounds`);
  const shifted = b.scratch([batch, plane, plane], `${label}: shifted kernel`);
  b.dispatch(kpcaKernels.shift.program({ uniforms, bindings: { centred_kernel: kernel, bounds, shifted }, count: square }), `${label}: shifted kernel`);
  return addTopComponent(b, uniforms, centred, kernel, shifted, label);
}

/** scikit-learn's sigmoid kernel's coef0 (its default, and pytorch-grad-cam's). */
const KPCA_COEF0 = 1;

/**
 * The repeated squaring of `start` and the projection with `gram` (the matrix whose top eigenvector is
 * sought; `start` is it or a shifted copy with the same eigenvectors).
 */
function addTopComponent(
  b: PlanBuilder,
  uniforms: { batch: number; channels: number; plane: number; dim: number; over_channels: number },
  centred: TensorRef,
  gram: TensorRef,
  start: TensorRef,
  label: string,
): TensorRef {
  const { batch, plane, dim } = uniforms;
  const powers = [b.scratch([batch, dim, dim], `${label}: power`), b.scratch([batch, dim, dim], `${label}: power`)];
  let source = start;
  for (let s = 0; s < EIGEN_SQUARINGS; s++) {
    const squared = powers[s % 2];
    b.dispatch(eigenKernels.square.program({ uniforms, bindings: { source, squared }, count: batch * dim * Math.ceil(dim / EIGEN_SQUARE_RUN) }), `${label}: squaring ${s + 1}`);
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
