// Deep Feature Factorization (Collins et al. 2018) in a plan, as pytorch-grad-cam computes it, per image:
// the layer's values shifted to be non-negative channel by channel, X [channels, positions], factorized
// by non-negative matrix factorization X ~ W H into `components` concepts (W's columns plus the shifts:
// points in the layer's channel space) and their maps (H's rows); the classifier head on each concept
// says which classes it votes for. The map of a DFF explanation is the map of the concept the head
// scores highest for the explained class. scikit-learn's NMF (pytorch-grad-cam's) has no unique answer
// either: here Lee and Seung's multiplicative updates for DFF_ITERATIONS steps from a counter-based random
// start (shaders/dff_init.wgsl), the same for every batch; shaders/dff_*.wgsl.
import { UserError } from '../errors.js';
import { dffKernels } from '../kernels/dff.js';
import type { TensorRef } from '../kernels/program.js';
import type { PlanBuilder } from '../plan/builder.js';
import type { CamHead } from './layers.js';
import { type LayerLayout, layoutUniforms, positionsOf } from './layout.js';
import { addResizeNormalize, type MapUniforms } from './map.js';

/** Concepts per image when none are asked for (pytorch-grad-cam's dff() and run_dff_on_image default). */
export const DEFAULT_CONCEPTS = 5;
/** Multiplicative-update steps: scikit-learn's max_iter default. */
export const DFF_ITERATIONS = 200;

/** Concept counts: a positive integer no larger than the layer's channels or positions. */
export function checkConcepts(concepts: number, channels?: number, positions?: number): void {
  if (!Number.isInteger(concepts) || concepts < 1) throw new UserError(`--concepts must be a positive integer, got ${concepts}`);
  const limit = Math.min(channels ?? Infinity, positions ?? Infinity);
  if (concepts > limit) throw new UserError(`--concepts ${concepts}: the layer has ${channels} channels and ${positions} positions, so at most ${limit} concepts`);
}

export interface Factorization {
  /** The chosen concept's map and its normalized copy, [batch, pixels]. */
  map: TensorRef;
  normalized: TensorRef;
  /** Every concept's normalized map, [batch * components, pixels]. */
  conceptMaps: TensorRef;
  /** The head's scores of every concept, [batch, components, classes]. */
  scores: TensorRef;
  /** Per image: the chosen concept, the relative reconstruction error, the choice's lead. */
  summary: TensorRef;
}

/** The factorization of one layer's activations (any layout), its concepts scored by the head. */
export function addFactorization(
  b: PlanBuilder,
  activations: TensorRef,
  layout: LayerLayout,
  sources: { head: CamHead; picked: TensorRef; classes: number },
  uniforms: MapUniforms,
  components: number,
  label: string,
): Factorization {
  const { batch, channels } = layout;
  const plane = positionsOf(layout);
  checkConcepts(components, channels, plane);
  const { head, picked, classes } = sources;
  if (!head.bias) throw new UserError(`dff: the dense head's bias is not a constant; the concepts' scores need it`);
  const common = { batch, channels, plane, components };
  const shifted = b.scratch([batch, channels, plane], `${label}: shifted values`);
  const offsets = b.scratch([batch, channels], `${label}: channel minima`);
  b.dispatch(dffKernels.shift.program({ uniforms: { ...common, ...layoutUniforms(layout) }, bindings: { activations, shifted, offsets }, count: batch * channels }), `${label}: shift`);
  let w = b.scratch([batch, channels, components], `${label}: concepts`);
  let h = b.scratch([batch, components, plane], `${label}: concept maps`);
  b.dispatch(dffKernels.init.program({ uniforms: common, bindings: { shifted, w, h }, workgroups: [batch, 1, 1] }), `${label}: start`);
  const next = { w: b.scratch(w.shape, `${label}: concepts`), h: b.scratch(h.shape, `${label}: concept maps`) };
  const gram = b.scratch([batch, components, components], `${label}: Gram matrix`);
  const grams = batch * components * components;
  for (let step = 0; step < DFF_ITERATIONS; step++) {
    b.dispatch(dffKernels.gram.program({ uniforms: { components, length: plane, component_stride: plane, position_stride: 1 }, bindings: { factor: h, gram }, count: grams }), `${label}: H H^T`);
    b.dispatch(dffKernels.updateW.program({ uniforms: common, bindings: { shifted, w, h, gram, updated: next.w }, count: batch * channels * components }), `${label}: update W`);
    [w, next.w] = [next.w, w];
    b.dispatch(dffKernels.gram.program({ uniforms: { components, length: channels, component_stride: 1, position_stride: components }, bindings: { factor: w, gram }, count: grams }), `${label}: W^T W`);
    b.dispatch(dffKernels.updateH.program({ uniforms: common, bindings: { shifted, w, h, gram, updated: next.h }, count: batch * components * plane }), `${label}: update H`);
    [h, next.h] = [next.h, h];
  }
  const scores = b.scratch([batch, components, classes], `${label}: concept scores`);
  b.dispatch(
    dffKernels.scores.program({
      uniforms: { ...common, classes, weight_class_stride: head.classStride, weight_channel_stride: head.channelStride },
      bindings: { w, offsets, weight: b.constantTensor(head.weight, `${label}: classifier weight`), bias: b.constantTensor({ dtype: 'float32', shape: [classes], data: head.bias }, `${label}: classifier bias`), scores },
      count: batch * components * classes,
    }),
    `${label}: concept scores`,
  );
  const summary = b.scratch([batch, 3], `${label}: summary`);
  const coarse = b.scratch([batch, plane], `${label}: coarse map`);
  b.dispatch(dffKernels.choose.program({ uniforms: { ...common, classes }, bindings: { shifted, w, h, scores, picked, summary, coarse }, workgroups: [batch, 1, 1] }), `${label}: choice`);
  const chosen = addResizeNormalize(b, uniforms, coarse, label);
  const concepts = addResizeNormalize(b, { ...uniforms, batch: batch * components }, h, `${label}: concepts`);
  return { ...chosen, conceptMaps: concepts.normalized, scores, summary };
}
